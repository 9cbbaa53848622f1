/* dialog-private.h - what the dialog's files share: the GTK 2 / GTK 3
 * helpers (dialog-widgets.c) and the rows built from the engine's table of
 * settings (dialog-settings.c).  dialog.c lays them out.
 */
#ifndef __NS_DIALOG_PRIVATE_H__
#define __NS_DIALOG_PRIVATE_H__

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

#include "ns.h"
#include "layers.h"
#include "restyle.h"

G_BEGIN_DECLS

#if GIMP_CHECK_VERSION (2, 99, 0)
#define NS_GTK3 1
#endif

/* the columns of the layer and region combos' stores */
enum { NS_COL_ID, NS_COL_THUMB, NS_COL_NAME, NS_N_COLS };

/* ---- dialog-widgets.c: GTK 2 / GTK 3 ---- */

GtkWidget * ns_grid_new          (void);
void        ns_grid_attach       (GtkWidget   *grid,
                                  GtkWidget   *child,
                                  gint         col,
                                  gint         row,
                                  gint         width);
GtkWidget * ns_box_new           (gboolean     vertical,
                                  gint         spacing);
GtkWidget * ns_label_new         (const gchar *text,
                                  gboolean     mnemonic);
/* A label that wraps at `width` px; set its text with ns_label_set_text. */
GtkWidget * ns_wrapped_label_new (const gchar *text,
                                  gint         width);
/* Sets a wrapped label's text (Pango markup when `markup`) so that no
 * paragraph ends in a line of one or two characters: Japanese and Chinese
 * break between any two characters. */
void        ns_label_set_text    (GtkWidget   *label,
                                  const gchar *text,
                                  gboolean     markup);
/* The height of `lines` lines of text in widget's font, px. */
gint        ns_lines_height      (GtkWidget   *widget,
                                  gint         lines);
GtkWidget * ns_spin_new          (gdouble      value,
                                  gdouble      lo,
                                  gdouble      hi,
                                  gdouble      step,
                                  guint        digits);
gdouble     ns_spin_get          (GtkWidget   *spin);
/* A label with a mnemonic for widget on `row`, the widget beside it. */
void        ns_labelled          (GtkWidget   *grid,
                                  gint         row,
                                  const gchar *text,
                                  GtkWidget   *widget,
                                  GtkWidget  **label_out);

/* A GIMP scale entry (label, slider, number) on `row`: the slider spans
 * [soft_lo, soft_hi], the number [lo, hi]. */
typedef struct
{
  GtkWidget     *entry;  /* GIMP 3: the GimpScaleEntry */
  GtkAdjustment *adj;    /* GIMP 2.10: its adjustment */
} NsScale;

NsScale     ns_scale_new         (GtkWidget   *grid,
                                  gint         row,
                                  const gchar *label,
                                  gdouble      value,
                                  gdouble      soft_lo,
                                  gdouble      soft_hi,
                                  gdouble      lo,
                                  gdouble      hi,
                                  guint        digits,
                                  gboolean     logarithmic,
                                  const gchar *tooltip);
gdouble     ns_scale_get         (const NsScale *s);
void        ns_scale_set         (const NsScale *s,
                                  gdouble        value);
void        ns_scale_connect     (const NsScale *s,
                                  GCallback      callback,
                                  gpointer       data);

/* Combos over a store of NS_COL_ID, NS_COL_THUMB, NS_COL_NAME (taken). */
GtkWidget * ns_combo_from_store  (GtkListStore *store,
                                  gboolean      thumbs);
gint        ns_combo_get         (GtkWidget    *combo);
void        ns_combo_set         (GtkWidget    *combo,
                                  gint          id);
GtkWidget * ns_text_combo_new    (const gchar  *first,
                                  ...) G_GNUC_NULL_TERMINATED;

/* A layer chooser, thumbnails and names (a first row `none`, ID -1, when
 * not NULL); a region chooser: the whole photo (ID -1), the selection (-2),
 * the painting's layer mask (-3), then the image's channels by ID. */
GtkWidget * ns_layer_combo_new   (const NsLayerList *layers,
                                  GdkPixbuf       *(*thumbnail) (gint layer_id,
                                                                 gint size),
                                  const gchar       *none);
GtkWidget * ns_region_combo_new  (const NsLayerList *layers);

/* Warns (g_warning) about each key that two mnemonics of window share. */
void        ns_check_mnemonics   (GtkWidget    *window);

/* ---- dialog-settings.c: rows from the table of settings ---- */

typedef struct _NsSettingRows NsSettingRows;

/* Builds a row the dialog shows its own way at *row of grid (advancing
 * it); FALSE = the generic widget of the row's type. */
typedef gboolean (* NsSpecialRow) (const struct ns_setting *s,
                                   GtkWidget               *grid,
                                   gint                    *row,
                                   gpointer                 data);

/* The rows of the table placed at `place` (NS_SETTING_MAIN, _ADVANCED), in
 * its order, from *row of grid on: a spin button for a number within its
 * row's range, a combo of the translated choices, a check box for a flag,
 * an entry for a string.  `changed` is called (with data) when one of
 * them changes. */
NsSettingRows * ns_setting_rows_new   (enum ns_setting_place place,
                                       GtkWidget            *grid,
                                       gint                 *row,
                                       NsSpecialRow          special,
                                       GCallback             changed,
                                       gpointer              data);
void            ns_setting_rows_free  (NsSettingRows        *rows);
/* p into the rows' widgets (their signals still fire: the caller guards) */
void            ns_setting_rows_show  (NsSettingRows        *rows,
                                       const NsRestyleParams *p);
/* the rows' widgets into p */
void            ns_setting_rows_read  (NsSettingRows        *rows,
                                       NsRestyleParams      *p);
/* a row's widget and label (in)sensitive; nothing if it is not one of these */
void            ns_setting_rows_set_sensitive (NsSettingRows *rows,
                                               const gchar   *name,
                                               gboolean       sensitive);

G_END_DECLS

#endif /* __NS_DIALOG_PRIVATE_H__ */
