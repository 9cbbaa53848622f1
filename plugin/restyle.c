/* restyle.c - the plug-ins' shared work, above the GIMP API: GEGL buffers
 * in, the engine in the middle, GEGL buffers out.
 */
#include "config.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "restyle-private.h"

G_DEFINE_QUARK (ns-restyle-error-quark, ns_restyle_error)

/* The engine's defaults, but fewer iterations: a dialog run should finish
 * while the photographer waits. */
NsRestyleParams
ns_restyle_defaults (void)
{
  struct ns_params e = ns_params_default ();
  NsRestyleParams  p = {
    .iterations      = 200,
    .size            = e.size,
    .content_weight  = e.content_weight,
    .style_weight    = e.style_weight,
    .tv_weight       = e.tv_weight,
    .optimizer       = NS_OPTIMIZER_CHOICE_LBFGS,
    .init            = NS_INIT_CHOICE_CONTENT,
    .preserve_colors = e.preserve_colors,
    .style_scale     = e.style_scale,
    .seed            = (gint) e.seed,
    .device          = NS_DEVICE_CHOICE_AUTO,
    .precision       = NS_PRECISION_CHOICE_FP32,
    .max_memory      = 0.0
  };

  return p;
}

/* Translations live beside the plug-in binary, in locale/<lang>/LC_MESSAGES,
 * so one installed folder carries everything. */
void
ns_restyle_init_i18n (void)
{
  gchar *exe = g_file_read_link ("/proc/self/exe", NULL);
  gchar *dir = exe ? g_path_get_dirname (exe) : g_strdup (".");
  gchar *locale = g_build_filename (dir, "locale", NULL);

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, locale);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_free (locale);
  g_free (dir);
  g_free (exe);
}

gboolean
ns_restyle_check_params (const NsRestyleParams  *p,
                         GError                **error)
{
  gchar *what = NULL;

  /* the numbers are the engine's (ns.h) */
  if (p->iterations < 0 || p->iterations > NS_PARAM_ITERATIONS_MAX)
    what = g_strdup_printf (_("iterations must be between 0 and %d"), NS_PARAM_ITERATIONS_MAX);
  else if (p->size < 0 || p->size > NS_PARAM_SIZE_MAX)
    what = g_strdup_printf (_("size must be between 0 and %d pixels"), NS_PARAM_SIZE_MAX);
  else if (! (p->content_weight >= 0) || ! (p->style_weight >= 0) || ! (p->tv_weight >= 0))
    what = g_strdup (_("the loss weights must not be negative"));
  else if (p->optimizer < 0 || p->optimizer > 1)
    what = g_strdup (_("optimizer must be 0 (L-BFGS) or 1 (Adam)"));
  else if (p->init < 0 || p->init > 1)
    what = g_strdup (_("init must be 0 (content) or 1 (noise)"));
  else if (! (p->style_scale >= NS_PARAM_STYLE_SCALE_MIN && p->style_scale <= NS_PARAM_STYLE_SCALE_MAX))
    what = g_strdup_printf (_("style scale must be between %g and %g"),
                            NS_PARAM_STYLE_SCALE_MIN, NS_PARAM_STYLE_SCALE_MAX);
  else if (p->device < 0 || p->device > 2)
    what = g_strdup (_("device must be 0 (auto), 1 (CPU) or 2 (GPU)"));
  else if (p->precision < 0 || p->precision > 2)
    what = g_strdup (_("precision must be 0 (float32), 1 (TF32) or 2 (bfloat16)"));
  else if (! (p->max_memory >= 0 && p->max_memory <= NS_MAX_MEMORY_GB))
    what = g_strdup_printf (_("the memory limit must be between 0 (automatic) and %g GB"),
                            NS_MAX_MEMORY_GB);

  if (what)
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("Invalid argument: %s."), what);
      g_free (what);
      return FALSE;
    }

  return TRUE;
}

/* the default balance of style to content, strength 50 */
static gdouble
default_ratio (void)
{
  NsRestyleParams d = ns_restyle_defaults ();

  return d.style_weight / d.content_weight;
}

gdouble
ns_restyle_strength (const NsRestyleParams *p)
{
  gdouble s;

  if (! (p->style_weight > 0))
    return 0.0;
  if (! (p->content_weight > 0))
    return 100.0;
  s = 50.0 + 25.0 * log10 (p->style_weight / p->content_weight / default_ratio ());
  return CLAMP (s, 0.0, 100.0);
}

void
ns_restyle_set_strength (NsRestyleParams *p,
                         gdouble          strength)
{
  gdouble cw = p->content_weight > 0 ? p->content_weight : 1.0;

  p->content_weight = cw;
  p->style_weight   = cw * default_ratio () * pow (10.0, (CLAMP (strength, 0.0, 100.0) - 50.0) / 25.0);
}

NsQuality
ns_restyle_quality (const NsRestyleParams *p)
{
  if (p->size == 0)
    return NS_QUALITY_FINAL;
  if (p->size == NS_DRAFT_SIZE)
    return NS_QUALITY_DRAFT;
  return NS_QUALITY_CUSTOM;
}

gboolean
ns_restyle_check_layers (const NsLayerFacts  *f,
                         GError             **error)
{
  const gchar *msg = NULL;

  if (! f->content_is_layer)
    msg = _("Neural Style restyles a layer: select the photo's layer (not a channel "
            "or a mask) and try again.");
  else if (f->indexed)
    msg = _("Neural Style works on RGB and grayscale images; convert this indexed "
            "image with Image > Mode > RGB first.");
  else if (! f->style_is_layer)
    msg = _("Choose a painting: add it to the image with File > Open as Layers... first.");
  else if (! f->style_in_image)
    msg = _("The painting must be a layer of the same image as the photo; add it "
            "with File > Open as Layers...");
  else if (f->same_layer)
    msg = _("The painting must be another layer than the photo.");
  else if (f->content_width < 1 || f->content_height < 1 ||
           f->style_width < 1 || f->style_height < 1)
    msg = _("Neural Style needs a photo and a painting that are not empty.");

  if (msg)
    g_set_error_literal (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID, msg);

  return msg == NULL;
}

gchar *
ns_restyle_layer_name (const gchar *style_name)
{
  /* TRANSLATORS: name of the new layer; %s is the style layer's name */
  return g_strdup_printf (_("Neural Style: %s"), style_name);
}

static enum ns_backend_kind
backend_of (gint device)
{
  switch (device)
    {
    case NS_DEVICE_CHOICE_CPU: return NS_BACKEND_CPU;
    case NS_DEVICE_CHOICE_GPU: return NS_BACKEND_CUDA;
    default:                   return NS_BACKEND_AUTO;
    }
}

struct ns_context *
ns_restyle_open (gint     device,
                 GError **error)
{
  struct ns_context *ctx    = NULL;
  enum ns_status     status = ns_context_new (NULL, backend_of (device), &ctx);

  if (status == NS_STATUS_OK)
    return ctx;

  switch (status)
    {
    case NS_STATUS_IO_ERROR:
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_WEIGHTS,
                   _("Neural Style needs the VGG-19 weights, which are not "
                     "installed. Run ./install.sh in the neural-style source "
                     "folder (it downloads them), or ./install.sh --weights "
                     "FILE with a file you downloaded, then try again.\n\n%s"),
                   ctx ? ns_last_error (ctx) : "");
      break;

    case NS_STATUS_BAD_WEIGHTS:
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_WEIGHTS,
                   _("The VGG-19 weights file is damaged; run ./install.sh "
                     "again to replace it.\n\n%s"),
                   ctx ? ns_last_error (ctx) : "");
      break;

    case NS_STATUS_UNAVAILABLE:
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_FAILED,
                   _("The GPU cannot be used; choose Auto or CPU as the "
                     "device.\n\n%s"),
                   ctx ? ns_last_error (ctx) : "");
      break;

    default:
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_FAILED,
                   _("Neural Style cannot start: %s"),
                   ctx ? ns_last_error (ctx) : ns_status_str (status));
      break;
    }

  ns_context_free (ctx);
  return NULL;
}

static enum ns_precision
precision_of (gint precision)
{
  switch (precision)
    {
    case NS_PRECISION_CHOICE_TF32: return NS_PRECISION_TF32;
    case NS_PRECISION_CHOICE_BF16: return NS_PRECISION_BF16;
    default:                       return NS_PRECISION_FP32;
    }
}

struct ns_params
ns_restyle_engine_params (const NsRestyleParams *p)
{
  struct ns_params e = ns_params_default ();

  e.iterations      = p->iterations;
  e.size            = p->size;
  e.content_weight  = (float) p->content_weight;
  e.style_weight    = (float) p->style_weight;
  e.tv_weight       = (float) p->tv_weight;
  e.optimizer       = p->optimizer == NS_OPTIMIZER_CHOICE_ADAM ? NS_OPTIMIZER_ADAM : NS_OPTIMIZER_LBFGS;
  e.init            = p->init == NS_INIT_CHOICE_NOISE ? NS_INIT_NOISE : NS_INIT_CONTENT;
  e.preserve_colors = p->preserve_colors;
  e.style_scale     = (float) p->style_scale;
  e.seed            = (uint64_t) (guint) p->seed;
  e.precision       = precision_of (p->precision);
  e.max_memory      = p->max_memory * 1e9;

  return e;
}

/* ---- the run ---- */

typedef struct
{
  NsProgressFunc       func;
  gpointer             data;
  struct ns_context   *ctx;
  enum ns_backend_kind kind;    /* the backend the run computes on */
  gdouble              elapsed; /* at the last report */
  gint                 history; /* L-BFGS pairs asked for (0 = Adam) */
} Progress;

static bool
on_progress (const struct ns_progress *p,
             void                     *user_data)
{
  Progress *pr = user_data;
  gchar     left[64];
  gchar    *text;
  gboolean  go_on;
  gdouble   fraction = p->total > 0 ? (gdouble) p->iteration / p->total : 1.0;

  pr->elapsed = p->elapsed;
  if (p->backend != pr->kind)
    {
      gchar *why = NULL;
      gchar *on  = ns_restyle_device_text (pr->ctx, NS_DEVICE_CHOICE_AUTO, &why);

      /* auto mode left the GPU (out of memory, a CUDA error) */
      pr->kind = p->backend;
      /* TRANSLATORS: the first %s is where it goes on, "the CPU (8 threads)";
         the second why, "The GPU does not have enough memory." */
      g_message (_("Neural Style goes on on %s. %s"), on, why ? why : "");
      g_free (why);
      g_free (on);
    }

  if (! pr->func)
    return true;

  ns_restyle_format_duration (p->eta, left, sizeof left);
  if (p->block)
    /* TRANSLATORS: progress bar text, "step 12 of 200, 6000 × 4000 px
       piece by piece to fit in memory, about 3 min left": too large even
       for tiles, each piece of the photo is refined in turn */
    text = g_strdup_printf (_("Neural Style: step %d of %d, %d × %d px piece by piece to fit in memory, %s left"),
                            p->iteration, p->total, p->width, p->height, left);
  else if (p->tile || p->history < pr->history)
    /* TRANSLATORS: progress bar text, "step 12 of 200, 2048 × 1365 px in
       tiles to fit in memory, about 3 min left" */
    text = g_strdup_printf (_("Neural Style: step %d of %d, %d × %d px in tiles to fit in memory, %s left"),
                            p->iteration, p->total, p->width, p->height, left);
  else
    /* TRANSLATORS: progress bar text, "step 12 of 200, about 3 min left" */
    text = g_strdup_printf (_("Neural Style: step %d of %d, %s left"), p->iteration, p->total, left);
  go_on = pr->func (fraction, text, pr->data);
  g_free (text);

  return go_on;
}

static gfloat *
read_rgba (GeglBuffer          *buffer,
           const GeglRectangle *rect)
{
  gfloat *data = g_try_new (gfloat, (gsize) rect->width * rect->height * 4);

  if (data)
    gegl_buffer_get (buffer, rect, 1.0, babl_format ("R'G'B'A float"), data,
                     GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  return data;
}

/* A w x h R'G'B'A float buffer resampled from data (ow x oh) with GEGL. */
static GeglBuffer *
scale_to (const gfloat *data,
          gint          ow,
          gint          oh,
          gint          w,
          gint          h)
{
  GeglRectangle  src_rect = { 0, 0, ow, oh };
  GeglRectangle  dst_rect = { 0, 0, w, h };
  const Babl    *format   = babl_format ("R'G'B'A float");
  GeglBuffer    *src      = gegl_buffer_new (&src_rect, format);
  GeglBuffer    *dst      = gegl_buffer_new (&dst_rect, format);
  GeglNode      *graph;
  GeglNode      *source;
  GeglNode      *scale;

  gegl_buffer_set (src, &src_rect, 0, format, data, GEGL_AUTO_ROWSTRIDE);

  if (ow == w && oh == h)
    {
      gegl_buffer_copy (src, NULL, GEGL_ABYSS_NONE, dst, NULL);
      g_object_unref (src);
      return dst;
    }

  graph  = gegl_node_new ();
  source = gegl_node_new_child (graph, "operation", "gegl:buffer-source", "buffer", src, NULL);
  /* LoHalo: GEGL's high-quality sampler for enlarging and reducing; clamp
   * at the borders so the edges do not fade */
  scale  = gegl_node_new_child (graph, "operation", "gegl:scale-size",
                                "x", (gdouble) w, "y", (gdouble) h,
                                "sampler", GEGL_SAMPLER_LOHALO,
                                "abyss-policy", GEGL_ABYSS_CLAMP,
                                NULL);
  gegl_node_link (source, scale);
  gegl_node_blit_buffer (scale, dst, &dst_rect, 0, GEGL_ABYSS_NONE);

  g_object_unref (graph);
  g_object_unref (src);
  return dst;
}

static void
set_run_error (struct ns_context  *ctx,
               enum ns_status      status,
               const GeglRectangle *area,
               GError            **error)
{
  switch (status)
    {
    case NS_STATUS_CANCELLED:
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_CANCELLED,
                   _("Neural Style was cancelled; the image is unchanged."));
      break;

    case NS_STATUS_OUT_OF_MEMORY:
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_MEMORY,
                   _("Not enough memory to restyle %d × %d pixels at this "
                     "size: choose a lower Quality (or Size) and try again.\n\n%s"),
                   area->width, area->height, ns_last_error (ctx));
      break;

    case NS_STATUS_INVALID_ARGUMENT:
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("Neural Style cannot run with these settings: %s"),
                   ns_last_error (ctx));
      break;

    default:
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_FAILED,
                   _("Neural Style failed: %s"), ns_last_error (ctx));
      break;
    }
}

/* A copy of content with area replaced by styled, through the selection
 * mask where there is one; the alpha stays the content's (pixels: area's
 * own RGBA). */
static GeglBuffer *
compose (GeglBuffer          *content,
         const GeglRectangle *area,
         GeglBuffer          *styled,
         const gfloat        *pixels,
         GeglBuffer          *mask,
         gint                 mask_offset_x,
         gint                 mask_offset_y)
{
  const Babl    *rgba    = babl_format ("R'G'B'A float");
  GeglBuffer    *output  = gegl_buffer_new (gegl_buffer_get_extent (content), rgba);
  gsize          n       = (gsize) area->width * area->height;
  gfloat        *new     = g_new (gfloat, n * 4);
  gfloat        *m       = mask ? g_new (gfloat, n) : NULL;
  GeglRectangle  at_zero = { 0, 0, area->width, area->height };
  gsize          i;

  gegl_buffer_copy (content, NULL, GEGL_ABYSS_NONE, output, NULL);
  gegl_buffer_get (styled, &at_zero, 1.0, rgba, new, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  if (m)
    {
      GeglRectangle sel = { area->x + mask_offset_x, area->y + mask_offset_y,
                            area->width, area->height };

      gegl_buffer_get (mask, &sel, 1.0, babl_format ("Y float"), m,
                       GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    }

  for (i = 0; i < n; i++)
    {
      gfloat a = m ? CLAMP (m[i], 0.0f, 1.0f) : 1.0f;
      gint   c;

      for (c = 0; c < 3; c++)
        new[4 * i + c] = a * new[4 * i + c] + (1.0f - a) * pixels[4 * i + c];
      new[4 * i + 3] = pixels[4 * i + 3];  /* the content's alpha */
    }

  gegl_buffer_set (output, area, 0, rgba, new, GEGL_AUTO_ROWSTRIDE);
  g_free (new);
  g_free (m);
  return output;
}

GeglBuffer *
ns_restyle (struct ns_context     *ctx,
            GeglBuffer            *content,
            const GeglRectangle   *area,
            GeglBuffer            *mask,
            gint                   mask_offset_x,
            gint                   mask_offset_y,
            GeglBuffer            *style,
            const NsRestyleParams *params,
            NsProgressFunc         progress,
            gpointer               progress_data,
            GError               **error)
{
  const GeglRectangle *style_extent = gegl_buffer_get_extent (style);
  struct ns_params     e            = ns_restyle_engine_params (params);
  Progress             pr           = { progress, progress_data, ctx,
                                        ns_context_backend_kind (ctx), 0.0,
                                        e.optimizer == NS_OPTIMIZER_LBFGS ? e.lbfgs_history : 0 };
  enum ns_backend_kind started_on   = pr.kind;
  gfloat              *pixels       = NULL;
  gfloat              *style_pixels = NULL;
  gfloat              *result       = NULL;
  GeglBuffer          *styled       = NULL;
  GeglBuffer          *output       = NULL;
  enum ns_status       status;
  gint                 ow, oh;

  if (area->width < 1 || area->height < 1 || style_extent->width < 1 || style_extent->height < 1)
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("Neural Style needs a photo and a painting that are not empty."));
      return NULL;
    }

  e.size       = ns_restyle_work_size (ctx, params, area->width, area->height,
                                       style_extent->width, style_extent->height, NULL);
  pixels       = read_rgba (content, area);
  style_pixels = read_rgba (style, style_extent);
  ns_output_size (&e, area->width, area->height, &ow, &oh);
  result       = g_try_new (gfloat, (gsize) ow * oh * 4);

  if (! pixels || ! style_pixels || ! result)
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_MEMORY,
                   _("Not enough memory to read the layers."));
      goto out;
    }

  {
    struct ns_image c = { pixels, area->width, area->height, 4, area->width * 4 };
    struct ns_image s = { style_pixels, style_extent->width, style_extent->height, 4,
                          style_extent->width * 4 };
    struct ns_image r = { result, ow, oh, 4, ow * 4 };

    status = ns_run (ctx, &c, &s, 1, &e, on_progress, &pr, &r);
    if (status != NS_STATUS_OK)
      {
        set_run_error (ctx, status, area, error);
        goto out;
      }
    if (pr.kind == started_on)
      ns_restyle_record_timing (ctx, ns_estimate_work (ctx, &e, area->width, area->height,
                                                       style_extent->width, style_extent->height),
                                pr.elapsed);
  }

  /* back to the layer's size, then through the selection onto the content */
  styled = scale_to (result, ow, oh, area->width, area->height);
  output = compose (content, area, styled, pixels, mask, mask_offset_x, mask_offset_y);

out:
  if (styled)
    g_object_unref (styled);
  g_free (pixels);
  g_free (style_pixels);
  g_free (result);
  return output;
}
