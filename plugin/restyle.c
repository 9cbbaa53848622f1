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
    .max_memory      = 0.0,
    .pooling         = NS_POOLING_CHOICE_MAX,
    .layer_weights   = NS_LAYER_WEIGHTS_CHOICE_UNIFORM,
    .paintings       = 1,
    .blend           = { 1.0, 1.0, 1.0 },
  };

  return p;
}

gboolean
ns_restyle_selection_is_region (const NsRestyleParams *p)
{
  gint k;

  for (k = 0; k < CLAMP (p->paintings, 1, NS_MAX_PAINTINGS); k++)
    if (p->region[k] == NS_REGION_CHOICE_SELECTION)
      return TRUE;
  return FALSE;
}

gboolean
ns_restyle_has_regions (const NsRestyleParams *p)
{
  gint k;

  for (k = 0; k < CLAMP (p->paintings, 1, NS_MAX_PAINTINGS); k++)
    if (p->region[k] != NS_REGION_CHOICE_WHOLE)
      return TRUE;
  return FALSE;
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

/* The paintings' weights and regions, as a sentence when wrong. */
static gchar *
check_paintings (const NsRestyleParams *p)
{
  gdouble sum = 0.0;
  gint    k;

  for (k = 0; k < p->paintings; k++)
    {
      if (! (p->blend[k] >= 0 && p->blend[k] <= 1e6))
        return g_strdup (_("the paintings' weights must be between 0 and 1000000"));
      if (p->region[k] < NS_REGION_CHOICE_WHOLE || p->region[k] > NS_REGION_CHOICE_CHANNEL)
        return g_strdup (_("a region must be the whole photo (0), the selection (1), the "
                           "painting's layer mask (2) or a channel (3)"));
      sum += p->blend[k];
    }
  if (! (sum > 0))
    return g_strdup (_("at least one painting needs a weight above 0"));
  if (p->correlation_chain && ns_restyle_has_regions (p))
    return g_strdup (_("the correlation chain cannot be combined with regions yet"));
  return NULL;
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
  else if (p->pooling < 0 || p->pooling > 1)
    what = g_strdup (_("pooling must be max or average"));
  else if (p->layer_weights < 0 || p->layer_weights > 1)
    what = g_strdup (_("layer weights must be uniform or geometric"));
  else if (! (fabs (p->activation_shift) <= NS_PARAM_ACTIVATION_SHIFT_MAX))
    what = g_strdup_printf (_("the activation shift must be between -%g and %g"),
                            NS_PARAM_ACTIVATION_SHIFT_MAX, NS_PARAM_ACTIVATION_SHIFT_MAX);
  else if (p->paintings < 1 || p->paintings > NS_MAX_PAINTINGS)
    what = g_strdup_printf (_("between 1 and %d paintings can be used"), NS_MAX_PAINTINGS);
  else
    what = check_paintings (p);

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

/* ---- presets ---- */

const gchar *
ns_restyle_preset_label (const gchar *name)
{
  if (! g_strcmp0 (name, "gatys2016"))
    return _("Gatys et al. 2016 (the paper)");
  if (! g_strcmp0 (name, "improved"))
    return _("Improved (Novak & Nikulin)");
  if (! g_strcmp0 (name, "faithful"))
    return _("Faithful: a light touch");
  if (! g_strcmp0 (name, "balanced"))
    return _("Balanced");
  if (! g_strcmp0 (name, "painterly"))
    return _("Painterly: boldly painted");
  return name;
}

/* The engine's view of a layer list, back into the fixed-size field. */
static void
set_layers (gchar       *field,
            gsize        len,
            const gchar *layers)
{
  g_strlcpy (field, layers ? layers : "", len);
}

void
ns_restyle_apply_preset (NsRestyleParams   *p,
                         const gchar       *name,
                         struct ns_context *ctx)
{
  struct ns_params e = ns_restyle_engine_params (p);

  if (ns_params_preset (&e, name) != NS_STATUS_OK)
    return;
  /* the fields a preset may set (presets.c) */
  p->pooling        = e.pooling == NS_POOLING_AVG ? NS_POOLING_CHOICE_AVG : NS_POOLING_CHOICE_MAX;
  p->init           = e.init == NS_INIT_NOISE ? NS_INIT_CHOICE_NOISE : NS_INIT_CHOICE_CONTENT;
  p->layer_weights  = e.layer_weights == NS_LAYER_WEIGHTS_GEOMETRIC ? NS_LAYER_WEIGHTS_CHOICE_GEOMETRIC
                                                                     : NS_LAYER_WEIGHTS_CHOICE_UNIFORM;
  p->activation_shift  = e.activation_shift;
  p->correlation_chain = e.correlation_chain;
  p->style_weight      = e.style_weight;
  p->tv_weight         = e.tv_weight;
  set_layers (p->content_layers, sizeof p->content_layers, e.content_layers);
  set_layers (p->style_layers, sizeof p->style_layers, e.style_layers);
  /* improved's relu5_2 on weights that stop earlier: their own default */
  if (ctx && *p->content_layers && ! strstr (ns_context_layers (ctx), p->content_layers))
    *p->content_layers = '\0';
}

/* Whether a and b agree on every setting a preset sets. */
static gboolean
same_preset_fields (const NsRestyleParams *a,
                    const NsRestyleParams *b)
{
  return a->pooling == b->pooling && a->init == b->init && a->layer_weights == b->layer_weights &&
         a->activation_shift == b->activation_shift && a->correlation_chain == b->correlation_chain &&
         a->style_weight == b->style_weight && a->tv_weight == b->tv_weight &&
         ! strcmp (a->style_layers, b->style_layers) &&
         (! strcmp (a->content_layers, b->content_layers) || ! *b->content_layers ||
          ! *a->content_layers);
}

const gchar *
ns_restyle_preset_of (const NsRestyleParams *p)
{
  const gchar *const *names = ns_preset_names ();
  gint                i;

  for (i = 0; names[i]; i++)
    {
      NsRestyleParams q = *p;

      ns_restyle_apply_preset (&q, names[i], NULL);
      if (same_preset_fields (p, &q))
        return names[i];
    }
  return NULL;
}

/* A painting's region, when it cannot be used. */
static const gchar *
check_region (const NsPaintingFacts *p)
{
  if (p->region_usable)
    return NULL;
  switch (p->region)
    {
    case NS_REGION_CHOICE_SELECTION:
      return _("A painting's region is the selection, but nothing is selected: select where "
               "it should act, or choose another region.");
    case NS_REGION_CHOICE_LAYER_MASK:
      return _("A painting's region is its layer mask, but the painting's layer has none: add "
               "one with Layer > Mask > Add Layer Mask and paint white where it should act.");
    case NS_REGION_CHOICE_CHANNEL:
      return _("A painting's region is a channel, but no channel of this image was chosen: "
               "save a selection to a channel (Select > Save to Channel) and choose it.");
    default:
      return NULL;
    }
}

/* The second and third paintings and every painting's region. */
static const gchar *
check_more (const NsLayerFacts *f)
{
  const gchar *msg = check_region (&f->first);
  gint         k;

  for (k = 0; k < f->n_more && ! msg; k++)
    {
      const NsPaintingFacts *p = &f->more[k];

      if (! p->is_layer || ! p->in_image)
        msg = _("Every painting must be a layer of the same image as the photo; add it with "
                "File > Open as Layers...");
      else if (p->is_content)
        msg = _("The painting must be another layer than the photo.");
      else if (p->empty)
        msg = _("Neural Style needs a photo and a painting that are not empty.");
      else
        msg = check_region (p);
    }
  return msg;
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
  else
    msg = check_more (f);

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
  e.pooling         = p->pooling == NS_POOLING_CHOICE_AVG ? NS_POOLING_AVG : NS_POOLING_MAX;
  e.content_layers  = *p->content_layers ? p->content_layers : NULL;
  e.style_layers    = *p->style_layers ? p->style_layers : NULL;
  e.layer_weights   = p->layer_weights == NS_LAYER_WEIGHTS_CHOICE_GEOMETRIC ? NS_LAYER_WEIGHTS_GEOMETRIC
                                                                            : NS_LAYER_WEIGHTS_UNIFORM;
  e.activation_shift  = (float) p->activation_shift;
  e.correlation_chain = p->correlation_chain;
  e.match_colors      = p->match_colors;
  /* regions are planned on whole levels: the count is enough for the
   * estimates; ns_restyle points style_masks at the masks */
  e.n_style_masks     = ns_restyle_has_regions (p) ? CLAMP (p->paintings, 1, NS_MAX_PAINTINGS) : 0;

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
 * mask where there is one and the regions' union where there are regions
 * (area-sized, NULL = none): where either is 0, the content's own values;
 * the alpha stays the content's (pixels: area's own RGBA). */
static GeglBuffer *
compose (GeglBuffer          *content,
         const GeglRectangle *area,
         GeglBuffer          *styled,
         const gfloat        *pixels,
         GeglBuffer          *mask,
         gint                 mask_offset_x,
         gint                 mask_offset_y,
         const gfloat        *regions)
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

      if (regions)
        a *= CLAMP (regions[i], 0.0f, 1.0f);
      for (c = 0; c < 3; c++)
        new[4 * i + c] = a <= 0.0f ? pixels[4 * i + c] : a * new[4 * i + c] + (1.0f - a) * pixels[4 * i + c];
      new[4 * i + 3] = pixels[4 * i + 3];  /* the content's alpha */
    }

  gegl_buffer_set (output, area, 0, rgba, new, GEGL_AUTO_ROWSTRIDE);
  g_free (new);
  g_free (m);
  return output;
}

/* The paintings' pixels and regions, read for a run on `area`. */
typedef struct
{
  gint            n;
  struct ns_image style[NS_MAX_PAINTINGS];
  struct ns_image mask[NS_MAX_PAINTINGS];  /* 1 channel, area-sized; data NULL = everywhere */
  gfloat          blend[NS_MAX_PAINTINGS];
  gfloat         *union_;                  /* the regions' union, area-sized; NULL = none */
} Paintings;

static void
paintings_clear (Paintings *ps)
{
  gint k;

  for (k = 0; k < NS_MAX_PAINTINGS; k++)
    {
      g_free (ps->style[k].data);
      g_free (ps->mask[k].data);
    }
  g_free (ps->union_);
}

/* The painting's pixels without the transparent border a layer with alpha
 * gets from Layer to Image Size (which a layer-mask region may need):
 * their colour is no part of the painting.  A painting without any opaque pixel stays
 * whole. */
struct ns_image
ns_restyle_read_painting (GeglBuffer *buffer)
{
  const GeglRectangle *e  = gegl_buffer_get_extent (buffer);
  struct ns_image      im = { read_rgba (buffer, e), e->width, e->height, 4, e->width * 4 };
  gint                 x0 = e->width, y0 = e->height, x1 = -1, y1 = -1, x, y;

  for (y = 0; im.data && y < e->height; y++)
    for (x = 0; x < e->width; x++)
      if (im.data[4 * ((gsize) y * e->width + x) + 3] > 0.0f)
        {
          x0 = MIN (x0, x), x1 = MAX (x1, x);
          y0 = MIN (y0, y), y1 = MAX (y1, y);
        }
  if (x1 >= 0 && (x1 - x0 + 1 < e->width || y1 - y0 + 1 < e->height))
    {
      gint w = x1 - x0 + 1, h = y1 - y0 + 1;

      for (y = 0; y < h; y++)  /* rows move down to the start: no overlap ahead */
        memmove (im.data + (gsize) y * w * 4, im.data + ((gsize) (y + y0) * e->width + x0) * 4,
                 sizeof (gfloat) * w * 4);
      im.width = w, im.height = h, im.stride = w * 4;
    }
  return im;
}

/* FALSE when memory runs out. */
static gboolean
read_paintings (Paintings             *ps,
                const NsPainting      *paintings,
                const NsRestyleParams *params,
                const GeglRectangle   *area)
{
  gsize n = (gsize) area->width * area->height;
  gint  k;

  memset (ps, 0, sizeof *ps);
  ps->n = CLAMP (params->paintings, 1, NS_MAX_PAINTINGS);
  for (k = 0; k < ps->n; k++)
    {
      ps->style[k] = ns_restyle_read_painting (paintings[k].buffer);
      ps->blend[k] = (gfloat) params->blend[k];
      if (! ps->style[k].data)
        return FALSE;
      if (! paintings[k].region)
        continue;
      ps->mask[k] = (struct ns_image) { g_try_new (gfloat, n), area->width, area->height, 1, area->width };
      if (! ps->mask[k].data)
        return FALSE;
      {
        GeglRectangle r = { area->x + paintings[k].region_x, area->y + paintings[k].region_y,
                            area->width, area->height };

        /* outside the region's drawable: not in the region */
        gegl_buffer_get (paintings[k].region, &r, 1.0, babl_format ("Y float"), ps->mask[k].data,
                         GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
      }
    }
  for (k = 0; k < ps->n && ns_restyle_has_regions (params); k++)
    {
      gsize i;

      if (! ps->mask[k].data)  /* a painting everywhere: no outside */
        {
          g_clear_pointer (&ps->union_, g_free);
          break;
        }
      if (! ps->union_ && ! (ps->union_ = g_try_new0 (gfloat, n)))
        return FALSE;
      for (i = 0; i < n; i++)
        ps->union_[i] = MAX (ps->union_[i], ps->mask[k].data[i]);
    }
  return TRUE;
}

GeglBuffer *
ns_restyle (struct ns_context     *ctx,
            GeglBuffer            *content,
            const GeglRectangle   *area,
            GeglBuffer            *mask,
            gint                   mask_offset_x,
            gint                   mask_offset_y,
            const NsPainting      *paintings,
            const NsRestyleParams *params,
            NsProgressFunc         progress,
            gpointer               progress_data,
            GError               **error)
{
  const GeglRectangle *style_extent = gegl_buffer_get_extent (paintings[0].buffer);
  struct ns_params     e            = ns_restyle_engine_params (params);
  Progress             pr           = { progress, progress_data, ctx,
                                        ns_context_backend_kind (ctx), 0.0,
                                        e.optimizer == NS_OPTIMIZER_LBFGS ? e.lbfgs_history : 0 };
  enum ns_backend_kind started_on   = pr.kind;
  Paintings            ps;
  gfloat              *pixels       = NULL;
  gfloat              *result       = NULL;
  GeglBuffer          *styled       = NULL;
  GeglBuffer          *output       = NULL;
  enum ns_status       status;
  gboolean             read;
  gint                 ow, oh, k;

  gboolean             empty        = area->width < 1 || area->height < 1;

  memset (&ps, 0, sizeof ps);
  for (k = 0; k < CLAMP (params->paintings, 1, NS_MAX_PAINTINGS); k++)
    {
      const GeglRectangle *x = gegl_buffer_get_extent (paintings[k].buffer);

      empty = empty || x->width < 1 || x->height < 1;
    }
  if (empty)
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("Neural Style needs a photo and a painting that are not empty."));
      return NULL;
    }

  e.size  = ns_restyle_work_size (ctx, params, area->width, area->height,
                                  style_extent->width, style_extent->height, NULL);
  pixels  = read_rgba (content, area);
  read    = read_paintings (&ps, paintings, params, area);
  ns_output_size (&e, area->width, area->height, &ow, &oh);
  result  = g_try_new (gfloat, (gsize) ow * oh * 4);

  if (! pixels || ! read || ! result)
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_MEMORY,
                   _("Not enough memory to read the layers."));
      goto out;
    }

  {
    struct ns_image c = { pixels, area->width, area->height, 4, area->width * 4 };
    struct ns_image r = { result, ow, oh, 4, ow * 4 };

    e.style_blend   = ps.blend;
    e.style_masks   = e.n_style_masks ? ps.mask : NULL;
    e.n_style_masks = e.n_style_masks ? ps.n : 0;
    status = ns_run (ctx, &c, ps.style, ps.n, &e, on_progress, &pr, &r);
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

  /* back to the layer's size, then through the selection and the regions
   * onto the content */
  styled = scale_to (result, ow, oh, area->width, area->height);
  output = compose (content, area, styled, pixels, mask, mask_offset_x, mask_offset_y, ps.union_);

out:
  if (styled)
    g_object_unref (styled);
  paintings_clear (&ps);
  g_free (pixels);
  g_free (result);
  return output;
}
