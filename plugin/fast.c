/* fast.c - Neural Style (Fast) above the GIMP API: the settings' table,
 * the installed styles, the run on GeglBuffers and the dialog's pictures.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "fast.h"
#include "restyle-private.h"

/* ---- the settings ---- */

static const NsFastSetting settings[] =
{
  { "style", NS_FAST_TEXT, G_STRUCT_OFFSET (NsFastParams, style), 0, 0, 0, 0,
    N_("St_yle"),
    N_("The installed style's name (neural-style --list-styles lists them), or a model file "
       "(.safetensors or .onnx)") },
  { "strength", NS_FAST_NUMBER, G_STRUCT_OFFSET (NsFastParams, strength), 0, 100, 100, 0,
    N_("S_trength"),
    N_("How much of the style, in percent: 0 leaves the photo as it is, 100 is the style alone") },
  { "brush-size", NS_FAST_NUMBER, G_STRUCT_OFFSET (NsFastParams, brush_size), 0.25, 8, 1, 2,
    N_("_Brush size"),
    N_("The strokes' size, times the size the style was trained at: on a large photo the trained "
       "strokes are small, 2 or 4 makes them show") },
  { "keep-colors", NS_FAST_BOOL, G_STRUCT_OFFSET (NsFastParams, keep_colors), 0, 1, 0, 0,
    N_("_Keep the photo's colours"),
    N_("The style's strokes and texture in the photo's own colours") },
  { "device", NS_FAST_DEVICE, G_STRUCT_OFFSET (NsFastParams, device), 0, 2, NS_BACKEND_AUTO, 0,
    N_("Compute on"),
    N_("Where to compute: automatic (the GPU if one is usable), the CPU or the GPU") },
};

const NsFastSetting *
ns_fast_settings (gint *n)
{
  *n = G_N_ELEMENTS (settings);
  return settings;
}

NsFastParams
ns_fast_defaults (void)
{
  NsFastParams p;

  memset (&p, 0, sizeof p);
  ns_rows_defaults (settings, G_N_ELEMENTS (settings), &p);
  return p;
}

gdouble
ns_row_get (gconstpointer        params,
            const NsFastSetting *s)
{
  gconstpointer field = G_STRUCT_MEMBER_P (params, s->offset);

  switch (s->type)
    {
    case NS_FAST_NUMBER: return *(const gdouble *) field;
    case NS_FAST_BOOL:   return *(const gboolean *) field;
    case NS_FAST_DEVICE: return *(const gint *) field;
    default:             return 0;
    }
}

void
ns_row_set (gpointer             params,
            const NsFastSetting *s,
            gdouble              value)
{
  gpointer field = G_STRUCT_MEMBER_P (params, s->offset);

  switch (s->type)
    {
    case NS_FAST_NUMBER: *(gdouble *) field  = value; break;
    case NS_FAST_BOOL:   *(gboolean *) field = value != 0; break;
    case NS_FAST_DEVICE: *(gint *) field     = (gint) value; break;
    default:             break;
    }
}

const gchar *
ns_row_text (gconstpointer        params,
             const NsFastSetting *s)
{
  return s->type == NS_FAST_TEXT ? G_STRUCT_MEMBER_P (params, s->offset) : "";
}

void
ns_row_set_text (gpointer             params,
                 const NsFastSetting *s,
                 const gchar         *text)
{
  if (s->type == NS_FAST_TEXT)
    g_strlcpy (G_STRUCT_MEMBER_P (params, s->offset), text ? text : "", NS_RESTYLE_TEXT_LEN);
}

gchar *
ns_row_label (const NsFastSetting *s)
{
  gchar **parts = g_strsplit (_(s->label), "_", -1);
  gchar  *label = g_strjoinv ("", parts);

  g_strfreev (parts);
  return label;
}

void
ns_rows_defaults (const NsFastSetting *rows,
                  gint                 n,
                  gpointer             params)
{
  gint i;

  for (i = 0; i < n; i++)
    if (rows[i].type != NS_FAST_TEXT)
      ns_row_set (params, &rows[i], rows[i].value);
}

gboolean
ns_rows_check (const NsFastSetting *rows,
               gint                 n,
               gconstpointer        params,
               GError             **error)
{
  gint i;

  for (i = 0; i < n; i++)
    {
      const NsFastSetting *s = &rows[i];
      gdouble              v = ns_row_get (params, s);
      gchar               *label;

      if (s->type == NS_FAST_TEXT || (v >= s->min && v <= s->max))
        continue;
      label = ns_row_label (s);
      /* TRANSLATORS: "Brush size must be between 0.25 and 8, not 9." */
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("%s must be between %g and %g, not %g."), label, s->min, s->max, v);
      g_free (label);
      return FALSE;
    }
  return TRUE;
}

gdouble
ns_fast_get (const NsFastParams  *p,
             const NsFastSetting *s)
{
  return ns_row_get (p, s);
}

void
ns_fast_set (NsFastParams        *p,
             const NsFastSetting *s,
             gdouble              value)
{
  ns_row_set (p, s, value);
}

void
ns_fast_set_style (NsFastParams *p,
                   const gchar  *style)
{
  g_strlcpy (p->style, style ? style : "", sizeof p->style);
}

gboolean
ns_fast_check (const NsFastParams *p,
               GError            **error)
{
  if (! ns_rows_check (settings, G_N_ELEMENTS (settings), p, error))
    return FALSE;
  if (! p->style[0])
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("Choose a style: the name of an installed one or a model file."));
      return FALSE;
    }
  return TRUE;
}

/* ---- the installed styles ---- */

static void
style_free (gpointer data)
{
  NsFastStyle *s = data;

  g_free (s->name);
  g_free (s->title);
  g_free (s->license);
  g_free (s->source);
  g_free (s->path);
  if (s->painting)
    g_bytes_unref (s->painting);
  g_free (s);
}

static gint
by_name (gconstpointer a,
         gconstpointer b)
{
  const NsFastStyle *x = *(NsFastStyle *const *) a;
  const NsFastStyle *y = *(NsFastStyle *const *) b;

  return g_utf8_collate (x->name, y->name);
}

/* The style in path, NULL when it does not load. */
static NsFastStyle *
style_of (const gchar *path,
          const gchar *name)
{
  struct ns_style_model *m = NULL;
  NsFastStyle           *s;
  gchar                  err[600];
  const gchar           *title;
  unsigned char         *png;
  size_t                 n = 0;

  if (ns_style_model_load (path, &m, err, sizeof err) != NS_STATUS_OK)
    {
      g_debug ("%s: %s", path, err);
      ns_style_model_free (m);
      return NULL;
    }
  s          = g_new0 (NsFastStyle, 1);
  title      = ns_style_model_info (m, "name");
  s->name    = g_strdup (name);
  s->title   = g_strdup (title && *title ? title : name);
  s->license = g_strdup (ns_style_model_info (m, "license"));
  s->source  = g_strdup (ns_style_model_info (m, "source"));
  s->path    = g_strdup (path);
  if ((png = ns_style_model_thumbnail (m, &n)))
    s->painting = g_bytes_new (png, n);
  free (png);
  ns_style_model_free (m);
  return s;
}

GPtrArray *
ns_fast_styles (void)
{
  GPtrArray  *styles = g_ptr_array_new_with_free_func (style_free);
  GHashTable *seen   = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gchar      *dirs[3];
  gint        n = ns_style_dirs (dirs, 3), i;

  for (i = 0; i < n; i++)
    {
      GDir        *d = g_dir_open (dirs[i], 0, NULL);
      const gchar *f;

      while (d && (f = g_dir_read_name (d)))
        {
          gboolean     model = g_str_has_suffix (f, ".safetensors") && f[0] != '.';
          /* (training/ is there too: Train Neural Style's runs) */
          gchar       *name  = model ? g_strndup (f, strlen (f) - strlen (".safetensors")) : NULL;
          gchar       *path  = g_build_filename (dirs[i], f, NULL);
          NsFastStyle *s     = NULL;

          if (model && ! g_hash_table_contains (seen, name))
            s = style_of (path, name);
          if (s)
            {
              g_ptr_array_add (styles, s);
              g_hash_table_add (seen, g_strdup (name));
            }
          g_free (path);
          g_free (name);
        }
      if (d)
        g_dir_close (d);
      free (dirs[i]);
    }
  g_ptr_array_sort (styles, by_name);
  g_hash_table_destroy (seen);
  return styles;
}

gchar *
ns_fast_style_tooltip (const NsFastStyle *style)
{
  gchar *title   = g_markup_escape_text (style->title, -1);
  gchar *source  = g_markup_escape_text (style->source ? style->source : _("not given"), -1);
  gchar *license = g_markup_escape_text (style->license ? style->license : _("not given"), -1);
  /* TRANSLATORS: a style's hover text: its name, where it came from and its licence */
  gchar *text    = g_strdup_printf (_("<b>%s</b>\nSource: %s\nLicence: %s"), title, source, license);

  g_free (title);
  g_free (source);
  g_free (license);
  return text;
}

const gchar *
ns_fast_none_text (void)
{
  return _("No fast style is installed. In the neural-style source folder, run\n\n"
           "./install.sh --styles\n\n"
           "to install five public styles (candy, mosaic, pointilism, rain-princess "
           "and udnie), or install a network of your own with ns-weights import "
           "(see the README's Fast styles).");
}

struct ns_style_model *
ns_fast_load (const gchar *style,
              GError     **error)
{
  struct ns_style_model *m    = NULL;
  gchar                 *path = strchr (style, '/') ? g_strdup (style) : ns_style_find (style);
  gchar                  err[600];

  if (! path)
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("No fast style called \"%s\" is installed. %s"), style, ns_fast_none_text ());
      return NULL;
    }
  if (ns_style_model_load (path, &m, err, sizeof err) != NS_STATUS_OK)
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_WEIGHTS,
                   _("The style \"%s\" cannot be used: %s"), style, err);
      ns_style_model_free (m);
      m = NULL;
    }
  if (path != style)
    free (path);
  return m;
}

gchar *
ns_fast_layer_name (const gchar *title)
{
  /* TRANSLATORS: name of the new layer; %s is the style's name */
  return g_strdup_printf (_("Neural Style (Fast): %s"), title);
}

struct ns_context *
ns_fast_open (gint     device,
              GError **error)
{
  struct ns_context *ctx = NULL;

  if (ns_context_new_device ((enum ns_backend_kind) device, 0, &ctx) == NS_STATUS_OK)
    return ctx;
  if (device == NS_BACKEND_CUDA)
    g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_FAILED,
                 _("The GPU cannot be used; choose Auto or CPU as the device.\n\n%s"),
                 ctx ? ns_last_error (ctx) : "");
  else
    g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_FAILED,
                 _("Neural Style cannot start: %s"), ctx ? ns_last_error (ctx) : "");
  ns_context_free (ctx);
  return NULL;
}

/* ---- the run ---- */

typedef struct
{
  NsProgressFunc func;
  gpointer       data;
} Progress;

static bool
on_progress (float  done,
             void  *data)
{
  Progress *pr = data;

  return pr->func (done, _("Neural Style (Fast)"), pr->data);
}

static struct ns_stylize_params
engine_params (const NsFastParams *p)
{
  struct ns_stylize_params e = ns_stylize_params_default ();

  e.strength        = p->strength / 100.0;
  e.brush_size      = p->brush_size;
  e.preserve_colors = p->keep_colors;
  return e;
}

static void
set_error (struct ns_context   *ctx,
           enum ns_status       status,
           const GeglRectangle *area,
           GError             **error)
{
  if (status == NS_STATUS_CANCELLED)
    g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_CANCELLED,
                 _("Neural Style was cancelled; the image is unchanged."));
  else if (status == NS_STATUS_OUT_OF_MEMORY)
    g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_MEMORY,
                 _("Not enough memory to restyle %d × %d pixels: close other images or "
                   "programs, or restyle a selection, and try again.\n\n%s"),
                 area->width, area->height, ns_last_error (ctx));
  else
    g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_FAILED,
                 _("Neural Style failed: %s"), ns_last_error (ctx));
}

GeglBuffer *
ns_fast_restyle (struct ns_context           *ctx,
                 const struct ns_style_model *model,
                 GeglBuffer                  *content,
                 const GeglRectangle         *area,
                 GeglBuffer                  *mask,
                 gint                         mask_offset_x,
                 gint                         mask_offset_y,
                 const NsFastParams          *params,
                 NsProgressFunc               progress,
                 gpointer                     progress_data,
                 GError                     **error)
{
  gsize                    n      = (gsize) area->width * area->height * 4;
  gfloat                  *pixels = ns_restyle_read_rgba (content, area);
  gfloat                  *result = pixels ? g_try_new (gfloat, n) : NULL;
  struct ns_stylize_params e      = engine_params (params);
  Progress                 pr     = { progress, progress_data };
  GeglBuffer              *output = NULL;
  enum ns_status           status;

  if (! result)
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_MEMORY,
                   _("Not enough memory to read the layers."));
      g_free (pixels);
      return NULL;
    }
  e.progress      = progress ? on_progress : NULL;
  e.progress_data = &pr;
  {
    struct ns_image c = { pixels, area->width, area->height, 4, area->width * 4 };
    struct ns_image r = { result, area->width, area->height, 4, area->width * 4 };

    status = ns_stylize (ctx, model, &c, &e, &r);
  }
  if (status == NS_STATUS_OK)
    {
      GeglRectangle at_zero = { 0, 0, area->width, area->height };
      GeglBuffer   *styled  = gegl_buffer_linear_new_from_data (result, babl_format ("R'G'B'A float"),
                                                                &at_zero, GEGL_AUTO_ROWSTRIDE, NULL, NULL);

      output = ns_restyle_compose (content, area, styled, pixels, mask, mask_offset_x, mask_offset_y, NULL);
      g_object_unref (styled);
    }
  else
    set_error (ctx, status, area, error);
  g_free (result);
  g_free (pixels);
  return output;
}

/* ---- the dialog's pictures ---- */

struct ns_image
ns_fast_read (GeglBuffer *buffer,
              gint        longest,
              gint        w,
              gint        h)
{
  const GeglRectangle *e = gegl_buffer_get_extent (buffer);

  return ns_restyle_read_middle (buffer, longest > 0 ? MIN (1.0, (gdouble) longest / MAX (e->width, e->height)) : 1.0,
                                 w, h, 3);
}

gboolean
ns_fast_style_image (struct ns_context           *ctx,
                     const struct ns_style_model *model,
                     const struct ns_image       *photo,
                     gdouble                      brush,
                     struct ns_image             *styled,
                     bool                       (*progress) (float, void *),
                     gpointer                     data,
                     gchar                      **why)
{
  struct ns_stylize_params e = ns_stylize_params_default ();
  enum ns_status           st;

  *styled = (struct ns_image) { g_new (gfloat, (gsize) photo->width * photo->height * 3),
                                photo->width, photo->height, 3, photo->width * 3 };
  e.brush_size    = brush;
  e.progress      = progress;
  e.progress_data = data;
  st = ns_stylize (ctx, model, photo, &e, styled);
  if (st == NS_STATUS_OK)
    return TRUE;
  if (why)
    *why = g_strdup (st == NS_STATUS_CANCELLED ? "" : ns_last_error (ctx));
  g_clear_pointer (&styled->data, g_free);
  return FALSE;
}

guchar *
ns_fast_compose8 (const struct ns_image *photo,
                  const struct ns_image *styled,
                  const NsFastParams    *params)
{
  gsize           n    = (gsize) photo->width * photo->height * 3;
  gfloat         *mix  = g_memdup2 (styled->data, n * sizeof (gfloat));
  guchar         *rgb  = g_new (guchar, n);
  struct ns_image im   = { mix, photo->width, photo->height, 3, photo->width * 3 };
  gfloat          s    = params->strength / 100.0;
  gsize           i;

  if (params->keep_colors)
    ns_preserve_colors (photo, &im);
  for (i = 0; i < n; i++)
    rgb[i] = (guchar) (CLAMP (s * mix[i] + (1.0f - s) * photo->data[i], 0.0f, 1.0f) * 255.0f + 0.5f);
  g_free (mix);
  return rgb;
}
