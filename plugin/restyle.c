/* restyle.c - the plug-ins' shared work, above the GIMP API: GEGL buffers
 * in, the engine in the middle, GEGL buffers out.
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "ns.h"
#include "restyle.h"

G_DEFINE_QUARK (ns-restyle-error-quark, ns_restyle_error)

/* The engine's defaults, but fewer iterations: a dialog run should finish
 * while the user waits. */
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
    .device          = NS_DEVICE_CHOICE_AUTO
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
  const gchar *what = NULL;

  if (p->iterations < 0 || p->iterations > 100000)
    what = _("iterations must be between 0 and 100000");
  else if (p->size < 0 || p->size > 16384)
    what = _("size must be between 0 and 16384 pixels");
  else if (! (p->content_weight >= 0) || ! (p->style_weight >= 0) || ! (p->tv_weight >= 0))
    what = _("the loss weights must not be negative");
  else if (p->optimizer < 0 || p->optimizer > 1)
    what = _("optimizer must be 0 (L-BFGS) or 1 (Adam)");
  else if (p->init < 0 || p->init > 1)
    what = _("init must be 0 (content) or 1 (noise)");
  else if (! (p->style_scale >= 0.05 && p->style_scale <= 8.0))
    what = _("style scale must be between 0.05 and 8");
  else if (p->device < 0 || p->device > 2)
    what = _("device must be 0 (auto), 1 (CPU) or 2 (GPU)");

  if (what)
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("Invalid argument: %s."), what);
      return FALSE;
    }

  return TRUE;
}

gboolean
ns_restyle_check_layers (const NsLayerFacts  *f,
                         GError             **error)
{
  const gchar *msg = NULL;

  if (! f->content_is_layer)
    msg = _("Neural Style works on a layer of the image: select exactly one layer as the content.");
  else if (f->indexed)
    msg = _("Neural Style works on RGB and grayscale images; convert this indexed "
            "image with Image > Mode > RGB first.");
  else if (! f->style_is_layer)
    msg = _("Choose a style layer: add the painting to the image as a layer first.");
  else if (! f->style_in_image)
    msg = _("The style layer must belong to the same image as the content layer; "
            "copy the painting into this image as a layer.");
  else if (f->same_layer)
    msg = _("The style layer must be another layer than the content layer.");
  else if (f->content_width < 1 || f->content_height < 1 ||
           f->style_width < 1 || f->style_height < 1)
    msg = _("Neural Style needs non-empty content and style layers.");

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

/* ---- speed memory for estimates ---- */

static gchar *
speed_file (void)
{
  return g_build_filename (g_get_user_cache_dir (), "neural-style", "speed.ini", NULL);
}

static gdouble
known_speed (struct ns_context *ctx)
{
  const gchar *key   = ns_context_backend_kind (ctx) == NS_BACKEND_CUDA ? "cuda" : "cpu";
  GKeyFile    *kf    = g_key_file_new ();
  gchar       *path  = speed_file ();
  gdouble      speed = 0.0;

  if (g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    speed = g_key_file_get_double (kf, "flops-per-second", key, NULL);

  if (! (speed > 0.0))  /* first guesses, replaced after the first run */
    speed = ns_context_backend_kind (ctx) == NS_BACKEND_CUDA
            ? 20e12 : 50e9 * g_get_num_processors ();

  g_free (path);
  g_key_file_free (kf);
  return speed;
}

/* Remembers how fast a finished run was, for the next estimate. */
static void
record_speed (struct ns_context *ctx,
                         gdouble            flops,
                         gdouble            seconds)
{
  const gchar *key  = ns_context_backend_kind (ctx) == NS_BACKEND_CUDA ? "cuda" : "cpu";
  GKeyFile    *kf   = g_key_file_new ();
  gchar       *path = speed_file ();
  gchar       *dir  = g_path_get_dirname (path);

  if (seconds > 1.0 && flops > 0.0)
    {
      g_key_file_load_from_file (kf, path, G_KEY_FILE_KEEP_COMMENTS, NULL);
      g_key_file_set_double (kf, "flops-per-second", key, flops / seconds);
      g_mkdir_with_parents (dir, 0700);
      g_key_file_save_to_file (kf, path, NULL);
    }

  g_free (dir);
  g_free (path);
  g_key_file_free (kf);
}

static struct ns_params
engine_params (const NsRestyleParams *p)
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

  return e;
}

static void
format_duration (gdouble  seconds,
                 gchar   *buf,
                 gsize    len)
{
  glong s = (glong) (seconds + 0.5);

  if (s >= 3600)
    g_snprintf (buf, len, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    g_snprintf (buf, len, "%ld:%02ld", s / 60, s % 60);
}

gchar *
ns_restyle_estimate (struct ns_context     *ctx,
                     const NsRestyleParams *p,
                     gint                   content_width,
                     gint                   content_height,
                     gint                   style_width,
                     gint                   style_height)
{
  struct ns_params e = engine_params (p);
  gdouble          bytes;
  gdouble          seconds;
  gchar            when[32];

  if (! ctx)
    return g_strdup (_("The VGG-19 weights are not installed: run ./install.sh "
                       "in the neural-style source folder first."));

  bytes   = ns_estimate_memory (ctx, &e, content_width, content_height, style_width, style_height);
  seconds = ns_estimate_flops (ctx, &e, content_width, content_height, style_width, style_height) /
            known_speed (ctx);
  format_duration (seconds, when, sizeof when);

  /* TRANSLATORS: "About 0.8 GB of memory and 6:12 (min:s) on the CPU (...)" */
  return g_strdup_printf (_("About %.1f GB of memory and %s (min:s) on %s"),
                          bytes / 1e9, when, ns_context_backend (ctx));
}

/* ---- the run ---- */

typedef struct
{
  NsProgressFunc       func;
  gpointer             data;
  struct ns_context   *ctx;
  enum ns_backend_kind kind; /* the backend the run started on */
} Progress;

static bool
on_progress (const struct ns_progress *p,
             void                     *user_data)
{
  Progress *pr = user_data;
  gchar     left[32];
  gchar    *text;
  gboolean  go_on;
  gdouble   fraction = p->total > 0 ? (gdouble) p->iteration / p->total : 1.0;

  if (ns_context_backend_kind (pr->ctx) != pr->kind)
    {
      /* auto mode left the GPU (out of memory, a CUDA error) */
      pr->kind = ns_context_backend_kind (pr->ctx);
      /* TRANSLATORS: %s is the engine's English account, e.g. "CPU (OpenBLAS, 8
         threads); auto mode fell back to the CPU: not enough memory on the GPU ..." */
      g_message (_("Neural Style goes on on the CPU: %s"), ns_context_backend (pr->ctx));
    }

  if (! pr->func)
    return true;

  if (p->eta >= 0)
    format_duration (p->eta, left, sizeof left);
  else
    g_strlcpy (left, "--:--", sizeof left);

  /* TRANSLATORS: progress bar text; "loss" is the value being minimised */
  text = g_strdup_printf (_("Neural Style: iteration %d of %d, loss %.4g, %s left"),
                          p->iteration, p->total, p->loss, left);
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
                     "size; lower the Size setting and try again.\n\n%s"),
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
  const GeglRectangle *extent       = gegl_buffer_get_extent (content);
  const GeglRectangle *style_extent = gegl_buffer_get_extent (style);
  struct ns_params     e            = engine_params (params);
  Progress             pr           = { progress, progress_data, ctx,
                                            ns_context_backend_kind (ctx) };
  gfloat              *pixels       = NULL;
  gfloat              *style_pixels = NULL;
  gfloat              *result       = NULL;
  GeglBuffer          *styled       = NULL;
  GeglBuffer          *output       = NULL;
  enum ns_status       status;
  gint                 ow, oh;
  gint64               started      = g_get_monotonic_time ();

  if (area->width < 1 || area->height < 1 || style_extent->width < 1 || style_extent->height < 1)
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("Neural Style needs non-empty content and style layers."));
      return NULL;
    }

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
    record_speed (ctx,
                  ns_estimate_flops (ctx, &e, area->width, area->height,
                                     style_extent->width, style_extent->height),
                  (g_get_monotonic_time () - started) / 1e6);
  }

  /* back to the layer's size, then through the selection onto the content */
  styled = scale_to (result, ow, oh, area->width, area->height);
  output = gegl_buffer_new (extent, babl_format ("R'G'B'A float"));
  gegl_buffer_copy (content, NULL, GEGL_ABYSS_NONE, output, NULL);

  {
    gsize   n    = (gsize) area->width * area->height;
    gfloat *new  = g_new (gfloat, n * 4);
    gfloat *m    = mask ? g_new (gfloat, n) : NULL;
    GeglRectangle at_zero = { 0, 0, area->width, area->height };
    gsize   i;

    gegl_buffer_get (styled, &at_zero, 1.0, babl_format ("R'G'B'A float"), new,
                     GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
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

    gegl_buffer_set (output, area, 0, babl_format ("R'G'B'A float"), new, GEGL_AUTO_ROWSTRIDE);
    g_free (new);
    g_free (m);
  }

out:
  if (styled)
    g_object_unref (styled);
  g_free (pixels);
  g_free (style_pixels);
  g_free (result);
  return output;
}

static gboolean
respond (gpointer dialog)
{
  const gchar *want = g_getenv ("NS_PLUGIN_TEST_RESPONSE");

  gtk_dialog_response (GTK_DIALOG (dialog),
                       g_strcmp0 (want, "ok") == 0 ? GTK_RESPONSE_OK : GTK_RESPONSE_CANCEL);
  return G_SOURCE_REMOVE;
}

void
ns_restyle_test_response (GtkDialog *dialog)
{
  const gchar *want = g_getenv ("NS_PLUGIN_TEST_RESPONSE");

  if (g_strcmp0 (want, "ok") == 0 || g_strcmp0 (want, "cancel") == 0)
    g_timeout_add (1500, respond, dialog);
}
