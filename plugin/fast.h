/* fast.h - Neural Style (Fast): a trained style network applied to a
 * layer, shared by the GIMP 2.10 and 3.0 plug-ins above the GIMP API.
 *
 * The settings and their table (the procedures' arguments and the
 * dialog's controls come from it), the installed styles, the run on
 * GeglBuffers, and the dialog's thumbnails and preview.
 */
#ifndef __NS_FAST_H__
#define __NS_FAST_H__

#include <gegl.h>

#include "ns.h"
#include "restyle.h"

G_BEGIN_DECLS

#define NS_FAST_PROC "plug-in-neural-style-fast"

typedef struct
{
  gchar    style[NS_RESTYLE_TEXT_LEN];  /* an installed style's name, or a model file */
  gdouble  strength;                    /* 0..100 % */
  gdouble  brush_size;                  /* 0.25..8, times the trained strokes */
  gboolean keep_colors;
  gint     device;                      /* enum ns_backend_kind */
} NsFastParams;

typedef enum
{
  NS_FAST_TEXT,     /* gchar[NS_RESTYLE_TEXT_LEN] */
  NS_FAST_NUMBER,
  NS_FAST_BOOL,
  NS_FAST_DEVICE    /* 0 auto, 1 CPU, 2 GPU (ns_restyle_device_choices) */
} NsFastType;

/* One setting: a procedure argument and a dialog control (of the fast
 * styles' table and of training's, each over its own struct). */
typedef struct
{
  const gchar *name;    /* the argument's name */
  NsFastType   type;
  gsize        offset;  /* in the table's struct (NsFastParams, NsTrainParams) */
  gdouble      min;
  gdouble      max;
  gdouble      value;   /* the default (a text's is "") */
  guint        digits;
  const gchar *label;   /* N_(), with the dialog's mnemonic */
  const gchar *help;    /* N_() */
} NsFastSetting;

/* Any table of rows over its own params struct (the fast styles' here,
 * training's in train.h): a row's value, set unclamped; a text row's
 * text (at most NS_RESTYLE_TEXT_LEN); its label without the mnemonic (new
 * string); every number row's default; each number within its row's
 * range, else a translated error naming the setting. */
gdouble               ns_row_get          (gconstpointer         params,
                                           const NsFastSetting  *s);
void                  ns_row_set          (gpointer              params,
                                           const NsFastSetting  *s,
                                           gdouble               value);
const gchar         * ns_row_text         (gconstpointer         params,
                                           const NsFastSetting  *s);
void                  ns_row_set_text     (gpointer              params,
                                           const NsFastSetting  *s,
                                           const gchar          *text);
gchar               * ns_row_label        (const NsFastSetting  *s);
void                  ns_rows_defaults    (const NsFastSetting  *rows,
                                           gint                  n,
                                           gpointer              params);
gboolean              ns_rows_check       (const NsFastSetting  *rows,
                                           gint                  n,
                                           gconstpointer         params,
                                           GError              **error);

/* The rows, in the order scripts pass them. */
const NsFastSetting * ns_fast_settings    (gint                 *n);
NsFastParams          ns_fast_defaults    (void);
gdouble               ns_fast_get         (const NsFastParams   *p,
                                           const NsFastSetting  *s);
void                  ns_fast_set         (NsFastParams         *p,
                                           const NsFastSetting  *s,
                                           gdouble               value);
void                  ns_fast_set_style   (NsFastParams         *p,
                                           const gchar          *style);
/* Each number within its row's range and a style named; else a
 * translated error naming the setting. */
gboolean              ns_fast_check       (const NsFastParams   *p,
                                           GError              **error);

/* ---- the installed styles ---- */

typedef struct
{
  gchar *name;     /* the file's name without .safetensors: what scripts pass */
  gchar *title;    /* the model's own name, or name */
  gchar *license;  /* NULL when not given */
  gchar *source;
  gchar *path;
  GBytes *painting;  /* the PNG of the painting the model carries, or NULL */
} NsFastStyle;

/* The usable installed styles (ns_style_dirs), sorted by name; a name in
 * an earlier folder hides the same name in later ones.  A GPtrArray of
 * NsFastStyle that frees them. */
GPtrArray           * ns_fast_styles      (void);
/* The hover text: title, source and licence (Pango markup, new string). */
gchar               * ns_fast_style_tooltip (const NsFastStyle  *style);
/* The model of an installed style's name or of a file's path; NULL and a
 * translated error (with how to install styles when none is found). */
struct ns_style_model * ns_fast_load      (const gchar          *style,
                                           GError              **error);
/* The translated sentence for no styles installed. */
const gchar         * ns_fast_none_text   (void);
/* The new layer's name, "Neural Style (Fast): <title>" (new string). */
gchar               * ns_fast_layer_name  (const gchar          *title);

/* Opens the device alone: fast styles need no VGG weights. */
struct ns_context   * ns_fast_open        (gint                  device,
                                           GError              **error);

/* Restyles `area` of `content` as ns_restyle does (the same buffer back:
 * the content's extent, the area restyled through the selection mask,
 * the content's alpha), with progress.  NULL and an error on failure. */
GeglBuffer          * ns_fast_restyle     (struct ns_context    *ctx,
                                           const struct ns_style_model *model,
                                           GeglBuffer           *content,
                                           const GeglRectangle  *area,
                                           GeglBuffer           *mask,
                                           gint                  mask_offset_x,
                                           gint                  mask_offset_y,
                                           const NsFastParams   *params,
                                           NsProgressFunc        progress,
                                           gpointer              progress_data,
                                           GError              **error);

/* ---- the dialog's pictures ---- */

/* An R'G'B' float copy of buffer: scaled so that its longest side is at
 * most `longest` (0 = 1:1), then at most w x h from the middle. */
struct ns_image       ns_fast_read        (GeglBuffer           *buffer,
                                           gint                  longest,
                                           gint                  w,
                                           gint                  h);
/* The photo through the model at full strength, brush size `brush`, as
 * R'G'B' float (the photo's size); FALSE and a sentence on failure. */
gboolean              ns_fast_style_image (struct ns_context    *ctx,
                                           const struct ns_style_model *model,
                                           const struct ns_image *photo,
                                           gdouble               brush,
                                           struct ns_image      *styled,
                                           bool                (*progress) (float, void *),
                                           gpointer              data,
                                           gchar               **why);
/* What OK would give, from the cached full-strength result: the style
 * kept colours or not, blended over the photo by strength; 8-bit R'G'B'
 * rows (g_free). */
guchar              * ns_fast_compose8    (const struct ns_image *photo,
                                           const struct ns_image *styled,
                                           const NsFastParams   *params);

G_END_DECLS

#endif /* __NS_FAST_H__ */
