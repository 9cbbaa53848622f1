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

/* Translations live beside the plug-in binary, in locale/<lang>/LC_MESSAGES,
 * so one installed folder carries everything. */
gchar *
ns_restyle_plugin_dir (void)
{
  gchar *exe = g_file_read_link ("/proc/self/exe", NULL);
  gchar *dir = exe ? g_path_get_dirname (exe) : g_strdup (".");

  g_free (exe);
  return dir;
}

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

struct ns_context *
ns_restyle_open (gint     device,
                 GError **error)
{
  struct ns_context *ctx    = NULL;
  enum ns_status     status = ns_context_new (NULL, (enum ns_backend_kind) device, &ctx);

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
      gchar *on  = ns_restyle_device_text (pr->ctx, NS_BACKEND_AUTO, &why);

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

gfloat *
ns_restyle_read_rgba (GeglBuffer          *buffer,
                      const GeglRectangle *rect)
{
  gfloat *data = g_try_new (gfloat, (gsize) rect->width * rect->height * 4);

  if (data)
    gegl_buffer_get (buffer, rect, 1.0, babl_format ("R'G'B'A float"), data,
                     GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  return data;
}

struct ns_image
ns_restyle_read_middle (GeglBuffer *buffer,
                        gdouble     scale,
                        gint        w,
                        gint        h,
                        gint        channels)
{
  const GeglRectangle *e  = gegl_buffer_get_extent (buffer);
  gint                 sw = MAX (1, (gint) (e->width * scale));
  gint                 sh = MAX (1, (gint) (e->height * scale));
  GeglRectangle        r  = { (gint) (e->x * scale) + (sw - MIN (sw, w)) / 2,
                              (gint) (e->y * scale) + (sh - MIN (sh, h)) / 2,
                              MIN (sw, w), MIN (sh, h) };
  struct ns_image      im = { g_new (gfloat, (gsize) r.width * r.height * channels),
                              r.width, r.height, channels, r.width * channels };

  gegl_buffer_get (buffer, &r, scale, babl_format (channels == 4 ? "R'G'B'A float" : "R'G'B' float"), im.data,
                   GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_CLAMP);
  return im;
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

GeglBuffer *
ns_restyle_compose (GeglBuffer          *content,
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
  struct ns_image      im = { ns_restyle_read_rgba (buffer, e), e->width, e->height, 4, e->width * 4 };
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
  pixels  = ns_restyle_read_rgba (content, area);
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
  output = ns_restyle_compose (content, area, styled, pixels, mask, mask_offset_x, mask_offset_y, ps.union_);

out:
  if (styled)
    g_object_unref (styled);
  paintings_clear (&ps);
  g_free (pixels);
  g_free (result);
  return output;
}
