/* dialog.c - the Neural Style dialog for GIMP 2.10 (GTK 2) and 3.0 (GTK 3).
 *
 * Up front what a photographer decides: which layer is the photo and which
 * the painting, style strength, brush size, keeping the photo's colours and
 * quality, with an estimate and a preview.  The optimiser's own settings
 * live under Advanced.  Where GTK 2 and 3 differ, the compat helpers at the
 * top say so.
 */
#include "config.h"

#include <string.h>

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n-lib.h>

#include "ns.h"
#include "dialog.h"

#define PREVIEW_SIZE       192
#define PREVIEW_ITERATIONS 50

enum { COL_ID, COL_THUMB, COL_NAME, N_COLS };

/* ---- GTK 2 / GTK 3 ---- */

#if GIMP_CHECK_VERSION (2, 99, 0)
#define NS_GTK3 1
#endif

static GtkWidget *
grid_new (void)
{
#ifdef NS_GTK3
  GtkWidget *grid = gtk_grid_new ();

  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 6);
#else
  GtkWidget *grid = gtk_table_new (1, 3, FALSE);

  gtk_table_set_row_spacings (GTK_TABLE (grid), 6);
  gtk_table_set_col_spacings (GTK_TABLE (grid), 6);
#endif
  return grid;
}

static void
grid_attach (GtkWidget *grid,
             GtkWidget *child,
             gint       col,
             gint       row,
             gint       width)
{
#ifdef NS_GTK3
  gtk_widget_set_hexpand (child, col > 0 || width > 1);
  gtk_grid_attach (GTK_GRID (grid), child, col, row, width, 1);
#else
  gtk_table_attach (GTK_TABLE (grid), child, col, col + width, row, row + 1,
                    col > 0 || width > 1 ? GTK_EXPAND | GTK_FILL : GTK_FILL, GTK_FILL, 0, 0);
#endif
}

static GtkWidget *
box_new (gboolean vertical,
         gint     spacing)
{
#ifdef NS_GTK3
  return gtk_box_new (vertical ? GTK_ORIENTATION_VERTICAL : GTK_ORIENTATION_HORIZONTAL, spacing);
#else
  return vertical ? gtk_vbox_new (FALSE, spacing) : gtk_hbox_new (FALSE, spacing);
#endif
}

static GtkWidget *
label_new (const gchar *text,
           gboolean     mnemonic)
{
  GtkWidget *label = mnemonic ? gtk_label_new_with_mnemonic (text) : gtk_label_new (text);

#ifdef NS_GTK3
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
#else
  gtk_misc_set_alignment (GTK_MISC (label), 0.0, 0.5);
#endif
  return label;
}

/* A label that wraps at `width` px (GTK 3 asks for characters too). */
static GtkWidget *
wrapped_label_new (const gchar *text,
                   gint         width)
{
  GtkWidget *label = label_new (text, FALSE);

  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_set_size_request (label, width, -1);
#ifdef NS_GTK3
  gtk_label_set_max_width_chars (GTK_LABEL (label), width / 7);
#endif
  return label;
}

/* A GIMP scale entry (label, slider, number) on `row`: the slider spans
 * [soft_lo, soft_hi], the number [lo, hi]. */
typedef struct
{
  GtkWidget     *entry;  /* GIMP 3: the GimpScaleEntry */
  GtkAdjustment *adj;    /* GIMP 2.10: its adjustment */
} Scale;

static Scale
scale_new (GtkWidget   *grid,
           gint         row,
           const gchar *label,
           gdouble      value,
           gdouble      soft_lo,
           gdouble      soft_hi,
           gdouble      lo,
           gdouble      hi,
           guint        digits,
           gboolean     logarithmic,
           const gchar *tooltip)
{
  Scale s = { NULL, NULL };

#ifdef NS_GTK3
  s.entry = gimp_scale_entry_new (label, value, lo, hi, digits);
  gimp_scale_entry_set_bounds (GIMP_SCALE_ENTRY (s.entry), soft_lo, soft_hi, TRUE);
  gimp_scale_entry_set_logarithmic (GIMP_SCALE_ENTRY (s.entry), logarithmic);
  gimp_help_set_help_data (s.entry, tooltip, NULL);
  grid_attach (grid, s.entry, 0, row, 3);
#else
  s.adj = GTK_ADJUSTMENT (gimp_scale_entry_new (GTK_TABLE (grid), 0, row, label, 180, 7, value,
                                                soft_lo, soft_hi, digits ? 0.1 : 1, digits ? 1 : 10,
                                                digits, FALSE, lo, hi, tooltip, NULL));
  gimp_scale_entry_set_logarithmic (GTK_OBJECT (s.adj), logarithmic);
#endif
  return s;
}

static gdouble
scale_get (const Scale *s)
{
#ifdef NS_GTK3
  return gimp_label_spin_get_value (GIMP_LABEL_SPIN (s->entry));
#else
  return gtk_adjustment_get_value (s->adj);
#endif
}

static void
scale_set (const Scale *s,
           gdouble      value)
{
#ifdef NS_GTK3
  gimp_label_spin_set_value (GIMP_LABEL_SPIN (s->entry), value);
#else
  gtk_adjustment_set_value (s->adj, value);
#endif
}

static void
scale_connect (const Scale *s,
               GCallback    callback,
               gpointer     data)
{
#ifdef NS_GTK3
  g_signal_connect_swapped (s->entry, "value-changed", callback, data);
#else
  g_signal_connect_swapped (s->adj, "value-changed", callback, data);
#endif
}

/* ---- the dialog ---- */

struct _NsDialog
{
  GtkWidget           *dialog;
  NsDialogHost         host;
  const NsLayerList   *layers;
  NsRestyleParams     *p;
  gint                *content;
  gint                *styles;     /* NS_MAX_PAINTINGS layer IDs, -1 = none */
  gint                *channels;   /* each painting's region channel, -1 = none */
  struct ns_context  **ctx;
  gint                 ctx_device; /* what *ctx was opened for */
  gboolean             updating;   /* widgets being set from p */
  gint                 custom_size;

  GtkWidget           *content_combo;
  GtkWidget           *style_combo;
  Scale                strength;
  Scale                brush;
  GtkWidget           *keep_colours;
  GtkWidget           *quality[3];
  GtkWidget           *size_spin;
  GtkWidget           *estimate;

  Scale                iterations;
  Scale                smoothness;
  GtkWidget           *optimizer;
  GtkWidget           *init;
  GtkWidget           *seed;
  GtkWidget           *seed_label;
  GtkWidget           *device;
  GtkWidget           *precision;
  GtkWidget           *precision_label;
  GtkWidget           *memory;
  GtkWidget           *content_weight;
  GtkWidget           *style_weight;

  GtkWidget           *preset;
  GtkWidget           *pooling;
  GtkWidget           *content_layer;
  GtkWidget           *all_layers;
  GtkWidget           *layer_weights;
  GtkWidget           *shift;
  GtkWidget           *chain;
  GtkWidget           *match_colours;

  GtkWidget           *painting[NS_MAX_PAINTINGS];  /* [0]: a label naming the painting */
  GtkWidget           *blend[NS_MAX_PAINTINGS];
  GtkWidget           *region[NS_MAX_PAINTINGS];

  GtkWidget           *preview_image;
  GtkWidget           *preview_button;
  GtkWidget           *preview_bar;
  GtkWidget           *preview_note;
  NsPreviewJob        *job;
  guint                job_timer;
  NsRestyleParams      previewed;  /* the settings of the preview shown */
  gboolean             blocked;    /* the last estimate's: OK cannot run */
  gboolean             has_preview;
};

static void refresh (NsDialog *d);

static gint
combo_get (GtkWidget *combo)
{
  GtkTreeIter iter;
  gint        id = -1;

  if (gtk_combo_box_get_active_iter (GTK_COMBO_BOX (combo), &iter))
    gtk_tree_model_get (gtk_combo_box_get_model (GTK_COMBO_BOX (combo)), &iter, COL_ID, &id, -1);
  return id;
}

static void
combo_set (GtkWidget *combo,
           gint       id)
{
  GtkTreeModel *model = gtk_combo_box_get_model (GTK_COMBO_BOX (combo));
  GtkTreeIter   iter;
  gboolean      ok;

  for (ok = gtk_tree_model_get_iter_first (model, &iter); ok; ok = gtk_tree_model_iter_next (model, &iter))
    {
      gint row_id;

      gtk_tree_model_get (model, &iter, COL_ID, &row_id, -1);
      if (row_id == id)
        {
          gtk_combo_box_set_active_iter (GTK_COMBO_BOX (combo), &iter);
          return;
        }
    }
  gtk_combo_box_set_active (GTK_COMBO_BOX (combo), -1);
}

/* A combo over store (COL_ID, COL_THUMB, COL_NAME; taken): the thumbnails
 * where asked, the names wrapped between words rather than cut. */
static GtkWidget *
combo_from_store (GtkListStore *store,
                  gboolean      thumbs)
{
  GtkWidget       *combo = gtk_combo_box_new_with_model (GTK_TREE_MODEL (store));
  GtkCellRenderer *cell;

  g_object_unref (store);
  if (thumbs)
    {
      cell = gtk_cell_renderer_pixbuf_new ();
      gtk_cell_layout_pack_start (GTK_CELL_LAYOUT (combo), cell, FALSE);
      gtk_cell_layout_set_attributes (GTK_CELL_LAYOUT (combo), cell, "pixbuf", COL_THUMB, NULL);
    }
  cell = gtk_cell_renderer_text_new ();
  g_object_set (cell, "wrap-mode", PANGO_WRAP_WORD_CHAR, "wrap-width", 260, NULL);
  gtk_cell_layout_pack_start (GTK_CELL_LAYOUT (combo), cell, TRUE);
  gtk_cell_layout_set_attributes (GTK_CELL_LAYOUT (combo), cell, "text", COL_NAME, NULL);
  return combo;
}

/* A layer chooser: thumbnails and names. */
static GtkWidget *
layer_combo_new (NsDialog    *d,
                 const gchar *none)
{
  GtkListStore    *store = gtk_list_store_new (N_COLS, G_TYPE_INT, GDK_TYPE_PIXBUF, G_TYPE_STRING);
  gint             i;

  if (none)  /* the first row: no layer */
    {
      GtkTreeIter iter;

      gtk_list_store_append (store, &iter);
      gtk_list_store_set (store, &iter, COL_ID, -1, COL_THUMB, NULL, COL_NAME, none, -1);
    }

  for (i = 0; i < d->layers->n; i++)
    {
      const NsLayer *l     = &d->layers->layers[i];
      GdkPixbuf     *thumb = d->host.thumbnail (l->id, 24);
      gchar         *name  = l->depth ? g_strdup_printf ("%*s%s", 2 * l->depth, "", l->name)
                                      : g_strdup (l->name);
      GtkTreeIter    iter;

      gtk_list_store_append (store, &iter);
      gtk_list_store_set (store, &iter, COL_ID, l->id, COL_THUMB, thumb, COL_NAME, name, -1);
      if (thumb)
        g_object_unref (thumb);
      g_free (name);
    }

  return combo_from_store (store, TRUE);
}

static GtkWidget *
text_combo_new (const gchar *first,
                ...)
{
  GtkWidget   *combo = gtk_combo_box_text_new ();
  const gchar *item;
  va_list      ap;

  va_start (ap, first);
  for (item = first; item; item = va_arg (ap, const gchar *))
    gtk_combo_box_text_append_text (GTK_COMBO_BOX_TEXT (combo), item);
  va_end (ap);
  return combo;
}

static void
labelled (GtkWidget   *grid,
          gint         row,
          const gchar *text,
          GtkWidget   *widget,
          GtkWidget  **label_out)
{
  GtkWidget *label = label_new (text, TRUE);

  gtk_label_set_mnemonic_widget (GTK_LABEL (label), widget);
  grid_attach (grid, label, 0, row, 1);
  grid_attach (grid, widget, 1, row, 2);
  if (label_out)
    *label_out = label;
}

/* ---- paintings and regions ---- */

/* The region combo's rows: the fixed choices, then the image's channels by ID */
#define REGION_WHOLE     (-1)
#define REGION_SELECTION (-2)
#define REGION_MASK      (-3)

static GtkWidget *
region_combo_new (NsDialog *d)
{
  GtkListStore    *store = gtk_list_store_new (N_COLS, G_TYPE_INT, GDK_TYPE_PIXBUF, G_TYPE_STRING);
  const gchar     *fixed[3] = { _("The whole photo"), _("The selection"), _("Its layer mask") };
  GtkTreeIter      iter;
  gint             i;

  for (i = 0; i < 3; i++)
    {
      gtk_list_store_append (store, &iter);
      gtk_list_store_set (store, &iter, COL_ID, -1 - i, COL_NAME, fixed[i], -1);
    }
  for (i = 0; i < d->layers->n_channels; i++)
    {
      /* TRANSLATORS: a region chooser's row; %s is a channel's name */
      gchar *name = g_strdup_printf (_("Channel: %s"), d->layers->channel_names[i]);

      gtk_list_store_append (store, &iter);
      gtk_list_store_set (store, &iter, COL_ID, d->layers->channel_ids[i], COL_NAME, name, -1);
      g_free (name);
    }
  return combo_from_store (store, FALSE);
}

/* Painting k's region as the combo's row ID, and back. */
static gint
region_id (NsDialog *d,
           gint      k)
{
  switch (d->p->region[k])
    {
    case NS_REGION_CHOICE_SELECTION:  return REGION_SELECTION;
    case NS_REGION_CHOICE_LAYER_MASK: return REGION_MASK;
    case NS_REGION_CHOICE_CHANNEL:    return d->channels[k] >= 0 ? d->channels[k] : REGION_WHOLE;
    default:                          return REGION_WHOLE;
    }
}

static void
set_region (NsDialog *d,
            gint      k,
            gint      id)
{
  d->p->region[k]  = id == REGION_SELECTION ? NS_REGION_CHOICE_SELECTION
                     : id == REGION_MASK    ? NS_REGION_CHOICE_LAYER_MASK
                     : id >= 0              ? NS_REGION_CHOICE_CHANNEL
                                            : NS_REGION_CHOICE_WHOLE;
  d->channels[k]   = id >= 0 ? id : -1;
}

/* The paintings in use: the first, then the second and third while set. */
static gint
paintings_in_use (NsDialog *d)
{
  gint n = 1;

  while (n < NS_MAX_PAINTINGS && d->styles[n] != -1)
    n++;
  return n;
}

/* ---- the engine for the chosen device ---- */

static gint
open_mode (gint device)
{
  /* the GPU choice opens in auto mode so that the estimate still works and
   * says why the GPU cannot be used */
  return device == NS_BACKEND_CPU ? NS_BACKEND_CPU : NS_BACKEND_AUTO;
}

static void stop_preview (NsDialog *d);

static void
open_engine (NsDialog *d)
{
  if (*d->ctx && d->ctx_device == open_mode (d->p->device))
    return;
  stop_preview (d);
  ns_context_free (*d->ctx);
  d->ctx_device = open_mode (d->p->device);
  *d->ctx       = ns_restyle_open (d->ctx_device, NULL);
}

/* ---- preview ---- */

static void
show_pixbuf (NsDialog  *d,
             GdkPixbuf *pixbuf)
{
  gtk_image_set_from_pixbuf (GTK_IMAGE (d->preview_image), pixbuf);
}

static void
show_photo (NsDialog *d)
{
  GdkPixbuf *thumb = d->host.thumbnail (*d->content, PREVIEW_SIZE);

  show_pixbuf (d, thumb);
  if (thumb)
    g_object_unref (thumb);
  d->has_preview = FALSE;
}

static void
preview_note (NsDialog    *d,
              const gchar *text)
{
  gtk_label_set_text (GTK_LABEL (d->preview_note), text);
}

static void
free_pixels (guchar   *pixels,
             gpointer  data)
{
  g_free (pixels);
}

static void
end_preview (NsDialog *d,
             gboolean  cancel)
{
  GError *error = NULL;
  guchar *rgb;
  gint    w, h;

  if (d->job_timer)
    g_source_remove (d->job_timer);
  d->job_timer = 0;
  rgb = ns_preview_finish (d->job, cancel, &w, &h, &error);
  d->job = NULL;
  gtk_widget_hide (d->preview_bar);
  gtk_widget_set_sensitive (d->preview_button, TRUE);

  if (rgb)
    {
      GdkPixbuf *pixbuf = gdk_pixbuf_new_from_data (rgb, GDK_COLORSPACE_RGB, FALSE, 8, w, h, 3 * w,
                                                    free_pixels, NULL);

      show_pixbuf (d, pixbuf);
      g_object_unref (pixbuf);
      d->has_preview = TRUE;
      preview_note (d, _("The middle of the photo, restyled at the size of the chosen "
                         "quality."));
    }
  else if (! cancel)
    {
      preview_note (d, error ? error->message : "");
    }
  g_clear_error (&error);
  refresh (d);  /* the estimate waited, and learns from the preview's speed */
}

static void
stop_preview (NsDialog *d)
{
  if (d->job)
    end_preview (d, TRUE);
}

static gboolean
preview_tick (gpointer data)
{
  NsDialog *d = data;
  gdouble   fraction;

  if (ns_preview_poll (d->job, &fraction))
    {
      d->job_timer = 0;  /* this source ends by returning FALSE */
      end_preview (d, FALSE);
      return G_SOURCE_REMOVE;
    }
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (d->preview_bar), fraction);
  return G_SOURCE_CONTINUE;
}

static void
start_preview (NsDialog *d)
{
  const NsLayer *c;
  const NsLayer *s;
  GeglBuffer    *content;
  GeglBuffer    *style;
  gint           work;

  stop_preview (d);
  if (! *d->ctx || ! ns_layers_usable_pair (d->layers, *d->content, d->styles[0]))
    return;
  c       = ns_layer_list_find (d->layers, *d->content);
  s       = ns_layer_list_find (d->layers, d->styles[0]);
  work    = ns_restyle_work_size (*d->ctx, d->p, c->width, c->height, s->width, s->height, NULL);
  content = d->host.buffer (*d->content);
  style   = d->host.buffer (d->styles[0]);
  d->job  = ns_preview_start (*d->ctx, content, style, d->p, work ? work : MAX (c->width, c->height),
                              PREVIEW_SIZE, PREVIEW_ITERATIONS);
  g_object_unref (content);
  g_object_unref (style);

  d->previewed = *d->p;
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (d->preview_bar), 0.0);
  gtk_widget_show (d->preview_bar);
  gtk_widget_set_sensitive (d->preview_button, FALSE);
  preview_note (d, _("Restyling a small copy..."));
  d->job_timer = g_timeout_add (100, preview_tick, d);
}

static gboolean
same_look (const NsRestyleParams *a,
           const NsRestyleParams *b)
{
  return ns_restyle_same_look (a, b);
}

/* ---- widgets <-> settings ---- */

static gdouble
spin_get (GtkWidget *spin)
{
  return gtk_spin_button_get_value (GTK_SPIN_BUTTON (spin));
}

/* The content layer combo's row of `name` ("" = the default, row 0). */
static void
content_layer_set (NsDialog    *d,
                   const gchar *name)
{
  GtkTreeModel *model = gtk_combo_box_get_model (GTK_COMBO_BOX (d->content_layer));
  GtkTreeIter   iter;
  gboolean      ok;
  gint          i = 0;

  for (ok = gtk_tree_model_get_iter_first (model, &iter); ok; ok = gtk_tree_model_iter_next (model, &iter), i++)
    {
      gchar *text = NULL;

      gtk_tree_model_get (model, &iter, 0, &text, -1);
      if (i > 0 && ! g_strcmp0 (text, name))
        {
          g_free (text);
          gtk_combo_box_set_active (GTK_COMBO_BOX (d->content_layer), i);
          return;
        }
      g_free (text);
    }
  if (*name)  /* a Script-Fu list the weights do not offer as one layer */
    {
      gtk_combo_box_text_append_text (GTK_COMBO_BOX_TEXT (d->content_layer), name);
      gtk_combo_box_set_active (GTK_COMBO_BOX (d->content_layer), i);
    }
  else
    {
      gtk_combo_box_set_active (GTK_COMBO_BOX (d->content_layer), 0);
    }
}

/* The published options and the preset they make (under Advanced). */
static void
show_published (NsDialog *d)
{
  const gchar        *preset = ns_restyle_preset_of (d->p);
  const gchar *const *names  = ns_preset_names ();
  gint                i, row = 0;

  for (i = 0; names[i]; i++)
    if (! g_strcmp0 (names[i], preset))
      row = i + 1;
  gtk_combo_box_set_active (GTK_COMBO_BOX (d->preset), row);
  gtk_combo_box_set_active (GTK_COMBO_BOX (d->pooling), d->p->e.pooling);
  content_layer_set (d, ns_restyle_get_text (d->p, ns_setting_find ("content-layers")));
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (d->all_layers), ! strcmp (ns_restyle_get_text (d->p, ns_setting_find ("style-layers")), "all"));
  gtk_combo_box_set_active (GTK_COMBO_BOX (d->layer_weights), d->p->e.layer_weights);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (d->shift), d->p->e.activation_shift);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (d->chain), d->p->e.correlation_chain);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (d->match_colours), d->p->e.match_colors);
}

static void
show_paintings (NsDialog *d)
{
  const NsLayer *first = ns_layer_list_find (d->layers, d->styles[0]);
  gint           k;

  gtk_label_set_text (GTK_LABEL (d->painting[0]), first ? first->name : "");
  for (k = 0; k < NS_MAX_PAINTINGS; k++)
    {
      if (k > 0)
        combo_set (d->painting[k], d->styles[k]);
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (d->blend[k]), d->p->blend[k]);
      combo_set (d->region[k], region_id (d, k));
    }
}

/* Puts p into every widget (nothing fires back while it does). */
static void
show_params (NsDialog *d)
{
  NsQuality q = ns_restyle_quality (d->p);

  d->updating = TRUE;
  scale_set (&d->strength, ns_restyle_strength (d->p));
  scale_set (&d->brush, 100.0 * d->p->e.style_scale);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (d->keep_colours), d->p->e.preserve_colors);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (d->quality[q]), TRUE);
  if (q == NS_QUALITY_CUSTOM)
    d->custom_size = d->p->e.size;
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (d->size_spin), d->custom_size);
  scale_set (&d->iterations, d->p->e.iterations);
  scale_set (&d->smoothness, d->p->e.tv_weight);
  gtk_combo_box_set_active (GTK_COMBO_BOX (d->optimizer), d->p->e.optimizer);
  gtk_combo_box_set_active (GTK_COMBO_BOX (d->init), d->p->e.init);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (d->seed), d->p->e.seed);
  gtk_combo_box_set_active (GTK_COMBO_BOX (d->device), d->p->device);
  gtk_combo_box_set_active (GTK_COMBO_BOX (d->precision), d->p->e.precision);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (d->memory), d->p->e.max_memory / 1e9);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (d->content_weight), d->p->e.content_weight);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (d->style_weight), d->p->e.style_weight);
  combo_set (d->content_combo, *d->content);
  combo_set (d->style_combo, d->styles[0]);
  show_published (d);
  show_paintings (d);
  d->updating = FALSE;
}

/* What to say when a painting's region is its layer mask and it has none. */
static const gchar *
region_without_mask (NsDialog *d)
{
  gint k;

  for (k = 0; k < d->p->paintings; k++)
    {
      const NsLayer *l = ns_layer_list_find (d->layers, d->styles[k]);

      if (l && d->p->region[k] == NS_REGION_CHOICE_LAYER_MASK && ! l->has_mask)
        return _("A painting's region is its layer mask, but the painting's layer has none: add "
                 "one with Layer > Mask > Add Layer Mask and paint white where it should act.");
    }
  return NULL;
}

/* The estimate, what is sensitive, and whether OK can be pressed. */
static void
refresh (NsDialog *d)
{
  const NsLayer *c       = ns_layer_list_find (d->layers, *d->content);
  const NsLayer *s       = ns_layer_list_find (d->layers, d->styles[0]);
  gboolean       usable  = ns_layers_usable_pair (d->layers, *d->content, d->styles[0]);
  gboolean       blocked = TRUE;
  gboolean       gpu     = *d->ctx && ns_context_backend_kind (*d->ctx) == NS_BACKEND_CUDA;
  gchar         *text    = NULL;

  GError        *error   = NULL;
  const gchar   *mask_missing = NULL;
  gint           k;

  /* while a preview runs, its thread has the engine: the estimate waits
   * for it to end (end_preview refreshes) */
  if (d->job)
    blocked = d->blocked;
  else if (usable && ! ns_restyle_check_params (d->p, &error))
    text = g_markup_printf_escaped ("<i>%s</i>", error->message);
  else if (usable && (mask_missing = region_without_mask (d)))
    text = g_markup_printf_escaped ("<i>%s</i>", mask_missing);
  else if (usable)
    text = ns_restyle_estimate (*d->ctx, d->p, c->width, c->height, s->width, s->height, &blocked);
  else
    text = g_markup_printf_escaped ("<i>%s</i>", _("Choose two different layers: the photo to "
                                                   "restyle and the painting whose style it takes "
                                                   "(not a group and a layer inside it)."));
  if (text)
    gtk_label_set_markup (GTK_LABEL (d->estimate), text);
  g_free (text);
  d->blocked = blocked;
  if (*d->ctx && ! d->job)
    {
      struct ns_backend_info info;

      ns_context_backend_info (*d->ctx, &info);
      gimp_help_set_help_data (d->estimate, *info.detail ? info.detail : NULL, NULL);
    }

  gtk_dialog_set_response_sensitive (GTK_DIALOG (d->dialog), GTK_RESPONSE_OK, usable && ! blocked);
  gtk_widget_set_sensitive (d->preview_button, usable && *d->ctx && ! d->job);
  gtk_widget_set_sensitive (d->size_spin, ns_restyle_quality (d->p) == NS_QUALITY_CUSTOM);
  gtk_widget_set_sensitive (d->seed, d->p->e.init == NS_INIT_NOISE);
  gtk_widget_set_sensitive (d->seed_label, d->p->e.init == NS_INIT_NOISE);
  gtk_widget_set_sensitive (d->precision, gpu);
  gtk_widget_set_sensitive (d->precision_label, gpu);
  if (d->has_preview && ! d->job && ! same_look (&d->previewed, d->p))
    preview_note (d, _("The settings changed: press Preview to see them."));
  for (k = 0; k < NS_MAX_PAINTINGS; k++)
    {
      gboolean in_use = k < d->p->paintings;

      if (k > 0)
        gtk_widget_set_sensitive (d->painting[k], d->styles[k - 1] != -1);
      gtk_widget_set_sensitive (d->blend[k], in_use && d->p->paintings > 1);
      gtk_widget_set_sensitive (d->region[k], in_use);
    }
  g_clear_error (&error);
}

static void
read_published (NsDialog *d)
{
  gint   row  = gtk_combo_box_get_active (GTK_COMBO_BOX (d->content_layer));
  gchar *name = row > 0 ? gtk_combo_box_text_get_active_text (GTK_COMBO_BOX_TEXT (d->content_layer)) : NULL;

  d->p->e.pooling       = MAX (0, gtk_combo_box_get_active (GTK_COMBO_BOX (d->pooling)));
  ns_restyle_set_text (d->p, ns_setting_find ("content-layers"), name);
  /* "all", or the default; a Script-Fu list stays while the box is not touched */
  if (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (d->all_layers)))
    ns_restyle_set_text (d->p, ns_setting_find ("style-layers"), "all");
  else if (! strcmp (ns_restyle_get_text (d->p, ns_setting_find ("style-layers")), "all"))
    ns_restyle_set_text (d->p, ns_setting_find ("style-layers"), "");
  d->p->e.layer_weights     = MAX (0, gtk_combo_box_get_active (GTK_COMBO_BOX (d->layer_weights)));
  d->p->e.activation_shift  = spin_get (d->shift);
  d->p->e.correlation_chain = gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (d->chain));
  d->p->e.match_colors      = gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (d->match_colours));
  g_free (name);
}

/* The second and third paintings (a painting cannot be the photo, and the
 * third follows the second), weights and regions. */
static void
read_paintings (NsDialog *d)
{
  gint k;

  for (k = 1; k < NS_MAX_PAINTINGS; k++)
    {
      gint id = combo_get (d->painting[k]);

      d->styles[k] = id == *d->content || (k == 2 && d->styles[1] == -1) ? -1 : id;
    }
  for (k = 0; k < NS_MAX_PAINTINGS; k++)
    {
      d->p->blend[k] = spin_get (d->blend[k]);
      set_region (d, k, combo_get (d->region[k]));
    }
  d->p->paintings = paintings_in_use (d);
}

/* A preset chosen: its settings (Custom leaves them). */
static void
preset_changed (NsDialog *d)
{
  gint row = gtk_combo_box_get_active (GTK_COMBO_BOX (d->preset));

  if (d->updating || row < 1)
    return;
  ns_restyle_apply_preset (d->p, ns_preset_names ()[row - 1], *d->ctx);
  show_params (d);
  refresh (d);
  if (d->host.changed)
    d->host.changed (d->p, d->host.data);
}

/* A widget changed: read everything back into p. */
static void
widgets_changed (NsDialog *d)
{
  gint q;

  if (d->updating)
    return;

  d->p->e.preserve_colors = gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (d->keep_colours));
  d->p->e.style_scale     = scale_get (&d->brush) / 100.0;
  d->custom_size        = (gint) spin_get (d->size_spin);
  for (q = 0; q < 3; q++)
    if (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (d->quality[q])))
      d->p->e.size = q == NS_QUALITY_DRAFT ? NS_DRAFT_SIZE : q == NS_QUALITY_FINAL ? 0 : d->custom_size;
  d->p->e.iterations = (gint) (scale_get (&d->iterations) + 0.5);
  d->p->e.tv_weight  = scale_get (&d->smoothness);
  d->p->e.optimizer  = MAX (0, gtk_combo_box_get_active (GTK_COMBO_BOX (d->optimizer)));
  d->p->e.init       = MAX (0, gtk_combo_box_get_active (GTK_COMBO_BOX (d->init)));
  d->p->e.seed       = (gint) spin_get (d->seed);
  d->p->device     = MAX (0, gtk_combo_box_get_active (GTK_COMBO_BOX (d->device)));
  d->p->e.precision  = MAX (0, gtk_combo_box_get_active (GTK_COMBO_BOX (d->precision)));
  d->p->e.max_memory = spin_get (d->memory) * 1e9;
  d->p->e.content_weight = spin_get (d->content_weight);
  d->p->e.style_weight   = spin_get (d->style_weight);
  read_published (d);
  read_paintings (d);

  open_engine (d);
  show_params (d);  /* strength follows the raw weights */
  refresh (d);
  if (d->host.changed)
    d->host.changed (d->p, d->host.data);
}

/* Style strength moved: it sets the style weight. */
static void
strength_changed (NsDialog *d)
{
  if (d->updating)
    return;
  ns_restyle_set_strength (d->p, scale_get (&d->strength));
  d->updating = TRUE;
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (d->content_weight), d->p->e.content_weight);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (d->style_weight), d->p->e.style_weight);
  d->updating = FALSE;
  refresh (d);
  if (d->host.changed)
    d->host.changed (d->p, d->host.data);
}

static void
layers_changed (GtkWidget *combo,
                NsDialog  *d)
{
  gint content = combo_get (d->content_combo);
  gint style   = combo_get (d->style_combo);
  gint k;

  if (d->updating)
    return;
  /* one layer chosen for both: the other side takes the old one (a swap) */
  if (content == style)
    {
      if (combo == d->content_combo)
        style = *d->content;
      else
        content = d->styles[0];
    }
  if (content != *d->content)
    {
      stop_preview (d);
      *d->content = content;
      show_photo (d);
    }
  d->styles[0] = style;
  for (k = 1; k < NS_MAX_PAINTINGS; k++)  /* a painting cannot be the photo */
    if (d->styles[k] == *d->content || d->styles[k] == style)
      d->styles[k] = -1;
  if (d->styles[1] == -1)
    d->styles[2] = -1;
  d->p->paintings = paintings_in_use (d);
  show_params (d);
  refresh (d);
}

static void
swap_clicked (NsDialog *d)
{
  gint content = *d->content;

  stop_preview (d);
  *d->content = d->styles[0];
  d->styles[0]   = content;
  show_params (d);
  show_photo (d);
  refresh (d);
}

/* ---- building it ---- */

static GtkWidget *
spin_new (gdouble value,
          gdouble lo,
          gdouble hi,
          gdouble step,
          guint   digits)
{
#ifdef NS_GTK3
  GtkAdjustment *adj = gtk_adjustment_new (value, lo, hi, step, step * 10, 0);
#else
  GtkAdjustment *adj = GTK_ADJUSTMENT (gtk_adjustment_new (value, lo, hi, step, step * 10, 0));
#endif
  GtkWidget *spin = gtk_spin_button_new (adj, step, digits);

  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (spin), TRUE);
  return spin;
}

static GtkWidget *
preview_column (NsDialog *d)
{
  GtkWidget *vbox  = box_new (TRUE, 6);
  GtkWidget *frame = gtk_frame_new (NULL);

  gtk_frame_set_shadow_type (GTK_FRAME (frame), GTK_SHADOW_IN);
  d->preview_image = gtk_image_new ();
  gtk_widget_set_size_request (d->preview_image, PREVIEW_SIZE, PREVIEW_SIZE);
  gtk_container_add (GTK_CONTAINER (frame), d->preview_image);
  gtk_box_pack_start (GTK_BOX (vbox), frame, FALSE, FALSE, 0);

  d->preview_button = gtk_button_new_with_mnemonic (_("Pre_view"));
  gimp_help_set_help_data (d->preview_button,
                           _("Restyle a small copy of the photo with these settings, in seconds"),
                           NULL);
  g_signal_connect_swapped (d->preview_button, "clicked", G_CALLBACK (start_preview), d);
  gtk_box_pack_start (GTK_BOX (vbox), d->preview_button, FALSE, FALSE, 0);

  d->preview_bar = gtk_progress_bar_new ();
  gtk_box_pack_start (GTK_BOX (vbox), d->preview_bar, FALSE, FALSE, 0);
  gtk_widget_set_no_show_all (d->preview_bar, TRUE);

  d->preview_note = wrapped_label_new (_("Press Preview to try the settings on a small copy."),
                                       PREVIEW_SIZE);
  gtk_box_pack_start (GTK_BOX (vbox), d->preview_note, FALSE, FALSE, 0);
  return vbox;
}

static void
quality_row (NsDialog  *d,
             GtkWidget *grid,
             gint       row)
{
  GtkWidget *hbox = box_new (FALSE, 6);
  GSList    *group = NULL;
  const gchar *names[3] = { _("_Draft"), _("_Final"), _("Cus_tom:") };
  const gchar *tips[3]  = { N_("Quick: restyles at 512 px on the longest side and enlarges the "
                               "result to the layer"),
                            N_("The layer's full resolution, or the largest size this machine "
                               "holds in memory"),
                            N_("An exact size, in pixels on the longest side") };
  gint       q;

  for (q = 0; q < 3; q++)
    {
      d->quality[q] = gtk_radio_button_new_with_mnemonic (group, names[q]);
      group = gtk_radio_button_get_group (GTK_RADIO_BUTTON (d->quality[q]));
      gimp_help_set_help_data (d->quality[q], gettext (tips[q]), NULL);
      g_signal_connect_swapped (d->quality[q], "toggled", G_CALLBACK (widgets_changed), d);
      gtk_box_pack_start (GTK_BOX (hbox), d->quality[q], FALSE, FALSE, 0);
    }
  d->size_spin = spin_new (d->custom_size, 64, NS_PARAM_SIZE_MAX, 16, 0);
  g_signal_connect_swapped (d->size_spin, "value-changed", G_CALLBACK (widgets_changed), d);
  gtk_box_pack_start (GTK_BOX (hbox), d->size_spin, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (hbox), label_new (_("px"), FALSE), FALSE, FALSE, 0);
  grid_attach (grid, label_new (_("Quality:"), FALSE), 0, row, 1);
  grid_attach (grid, hbox, 1, row, 2);
}

/* Up to three paintings, each with a weight and a region. */
static GtkWidget *
paintings_section (NsDialog *d)
{
  GtkWidget   *expander = gtk_expander_new_with_mnemonic (_("E_xtra paintings and regions"));
  GtkWidget   *grid     = grid_new ();
  const gchar *labels[NS_MAX_PAINTINGS] = { N_("Painting 1:"), N_("Painting _2:"), N_("Painting _3:") };
  gint         k, row = 0;

  gtk_container_set_border_width (GTK_CONTAINER (grid), 6);
  gtk_container_add (GTK_CONTAINER (expander), grid);
  grid_attach (grid, wrapped_label_new (_("Each painting acts where its region is white (a "
                                          "selection, a channel, or the painting layer's own "
                                          "mask); outside every region the photo stays exactly "
                                          "as it is. Without regions the paintings are blended by "
                                          "weight."), 420), 0, row++, 4);
  grid_attach (grid, label_new (_("Weight"), FALSE), 2, row, 1);
  grid_attach (grid, label_new (_("Region"), FALSE), 3, row++, 1);
  for (k = 0; k < NS_MAX_PAINTINGS; k++, row++)
    {
      GtkWidget *label = label_new (gettext (labels[k]), k > 0);

      d->painting[k] = k ? layer_combo_new (d, _("None")) : label_new ("", FALSE);
      if (k)
        gtk_label_set_mnemonic_widget (GTK_LABEL (label), d->painting[k]);
      d->blend[k] = spin_new (d->p->blend[k], 0, 1e6, 0.1, 2);
      gimp_help_set_help_data (d->blend[k], _("The painting's share of the style; with regions, "
                                              "its strength in its region"), NULL);
      d->region[k] = region_combo_new (d);
      gimp_help_set_help_data (d->region[k], _("Where the painting acts"), NULL);
      grid_attach (grid, label, 0, row, 1);
      grid_attach (grid, d->painting[k], 1, row, 1);
      grid_attach (grid, d->blend[k], 2, row, 1);
      grid_attach (grid, d->region[k], 3, row, 1);
      if (k)
        g_signal_connect_swapped (d->painting[k], "changed", G_CALLBACK (widgets_changed), d);
      g_signal_connect_swapped (d->blend[k], "value-changed", G_CALLBACK (widgets_changed), d);
      g_signal_connect_swapped (d->region[k], "changed", G_CALLBACK (widgets_changed), d);
    }
  return expander;
}

/* The layers the weights file has, for the content layer (after the
 * engine is open; only the default without it). */
static void
fill_content_layers (NsDialog *d)
{
  gchar **names;
  gint    i;

  if (! *d->ctx)
    return;
  names = g_strsplit (ns_context_layers (*d->ctx), ",", -1);
  for (i = 0; names[i]; i++)
    gtk_combo_box_text_append_text (GTK_COMBO_BOX_TEXT (d->content_layer), names[i]);
  g_strfreev (names);
}

/* The preset and Novak & Nikulin's options, at the top of Advanced. */
static gint
published_rows (NsDialog  *d,
                GtkWidget *grid,
                gint       row)
{
  const gchar *const *names = ns_preset_names ();
  gint                i;

  d->preset = text_combo_new (_("Custom"), NULL);
  for (i = 0; names[i]; i++)
    gtk_combo_box_text_append_text (GTK_COMBO_BOX_TEXT (d->preset), ns_restyle_preset_label (names[i]));
  gimp_help_set_help_data (d->preset, _("Tested combinations of the settings below; changing "
                                        "one of them makes it Custom"), NULL);
  labelled (grid, row++, _("Pr_eset:"), d->preset, NULL);

  d->pooling = text_combo_new (_("Max"), _("Average (Gatys et al. 2016)"), NULL);
  labelled (grid, row++, _("Poo_ling:"), d->pooling, NULL);

  d->content_layer = text_combo_new (_("Default"), NULL);
  gimp_help_set_help_data (d->content_layer, _("The VGG layer whose features keep the photo's "
                                               "shapes: deeper layers let the style change more"),
                           NULL);
  labelled (grid, row++, _("Content la_yer:"), d->content_layer, NULL);

  d->all_layers = gtk_check_button_new_with_mnemonic (_("Style from every _layer"));
  gimp_help_set_help_data (d->all_layers, _("Match the painting at every layer of the network, "
                                            "not only the first of each block"), NULL);
  grid_attach (grid, d->all_layers, 1, row++, 2);

  d->layer_weights = text_combo_new (_("Equal"), _("Geometric (shallow style layers weigh more)"),
                                     NULL);
  labelled (grid, row++, _("Layer weig_hts:"), d->layer_weights, NULL);

  d->shift = spin_new (d->p->e.activation_shift, -NS_PARAM_ACTIVATION_SHIFT_MAX,
                       NS_PARAM_ACTIVATION_SHIFT_MAX, 0.5, 1);
  gimp_help_set_help_data (d->shift, _("Style statistics of the activations plus this number; "
                                       "Novak & Nikulin use -1"), NULL);
  labelled (grid, row++, _("Act_ivation shift:"), d->shift, NULL);

  d->chain = gtk_check_button_new_with_mnemonic (_("Correlation c_hain"));
  gimp_help_set_help_data (d->chain, _("Also match how adjacent style layers go together "
                                       "(needs the memory of an untiled level)"), NULL);
  grid_attach (grid, d->chain, 1, row++, 2);

  d->match_colours = gtk_check_button_new_with_mnemonic (_("_Match the painting's colours to the photo first"));
  gimp_help_set_help_data (d->match_colours, _("Move the painting's colours onto the photo's "
                                               "before restyling: its brushwork in the photo's "
                                               "palette"), NULL);
  grid_attach (grid, d->match_colours, 1, row++, 2);

  g_signal_connect_swapped (d->preset, "changed", G_CALLBACK (preset_changed), d);
  g_signal_connect_swapped (d->pooling, "changed", G_CALLBACK (widgets_changed), d);
  g_signal_connect_swapped (d->content_layer, "changed", G_CALLBACK (widgets_changed), d);
  g_signal_connect_swapped (d->all_layers, "toggled", G_CALLBACK (widgets_changed), d);
  g_signal_connect_swapped (d->layer_weights, "changed", G_CALLBACK (widgets_changed), d);
  g_signal_connect_swapped (d->shift, "value-changed", G_CALLBACK (widgets_changed), d);
  g_signal_connect_swapped (d->chain, "toggled", G_CALLBACK (widgets_changed), d);
  g_signal_connect_swapped (d->match_colours, "toggled", G_CALLBACK (widgets_changed), d);
  return row;
}

static GtkWidget *
advanced_section (NsDialog *d)
{
  GtkWidget *expander = gtk_expander_new_with_mnemonic (_("_Advanced"));
  GtkWidget *grid     = grid_new ();
  gint       row      = 0;

  gtk_container_set_border_width (GTK_CONTAINER (grid), 6);
  gtk_container_add (GTK_CONTAINER (expander), grid);
  row = published_rows (d, grid, row);

  d->iterations = scale_new (grid, row++, _("_Iterations:"), d->p->e.iterations, 20, 1000, 0, NS_PARAM_ITERATIONS_MAX, 0,
                             FALSE, _("Optimisation steps: more refine the result further; "
                                      "100 to 300 are usually enough"));
  scale_connect (&d->iterations, G_CALLBACK (widgets_changed), d);

  d->optimizer = text_combo_new (_("L-BFGS (best quality)"), _("Adam"), NULL);
  labelled (grid, row++, _("Optimi_zer:"), d->optimizer, NULL);

  d->init = text_combo_new (_("The photo"), _("Random noise"), NULL);
  labelled (grid, row++, _("Start fro_m:"), d->init, NULL);

  d->seed = spin_new (d->p->e.seed, 0, G_MAXINT, 1, 0);
  gimp_help_set_help_data (d->seed, _("The random noise's seed: the same seed gives the same "
                                      "picture"), NULL);
  labelled (grid, row++, _("S_eed:"), d->seed, &d->seed_label);

  d->device = text_combo_new (_("Automatic (the GPU if one is usable)"), _("CPU"),
                              _("GPU (NVIDIA, CUDA)"), NULL);
  labelled (grid, row++, _("Comp_ute on:"), d->device, NULL);

  d->precision = text_combo_new (_("Float32 (exact)"), _("TF32 (tensor cores, faster)"),
                                 _("BFloat16 (half the memory; Ampere or newer)"), NULL);
  labelled (grid, row++, _("_GPU precision:"), d->precision, &d->precision_label);

  d->memory = spin_new (d->p->e.max_memory / 1e9, 0, 1024, 0.5, 1);
  gimp_help_set_help_data (d->memory, _("The most memory a run may use, in GB: a larger photo is "
                                        "then restyled in tiles, with the same result. 0 = what "
                                        "the computer or GPU has free"), NULL);
  labelled (grid, row++, _("_Memory limit (GB):"), d->memory, NULL);

  d->smoothness = scale_new (grid, row++, _("Smoothness:"), d->p->e.tv_weight, 0, 50, 0, 1e6, 1, FALSE,
                             _("Total-variation weight: higher values give smoother, less "
                               "noisy results"));
  scale_connect (&d->smoothness, G_CALLBACK (widgets_changed), d);

  d->content_weight = spin_new (d->p->e.content_weight, 0, 1e6, 0.1, 2);
  gimp_help_set_help_data (d->content_weight, _("Content loss weight: how strongly the result "
                                                "keeps the photo's shapes"), NULL);
  labelled (grid, row++, _("Content weight:"), d->content_weight, NULL);

  d->style_weight = spin_new (d->p->e.style_weight, 0, 1e9, 1, 1);
  gimp_help_set_help_data (d->style_weight, _("Style loss weight; Style strength sets it "
                                              "relative to the content weight"), NULL);
  labelled (grid, row++, _("Style weight:"), d->style_weight, NULL);

  g_signal_connect_swapped (d->optimizer, "changed", G_CALLBACK (widgets_changed), d);
  g_signal_connect_swapped (d->init, "changed", G_CALLBACK (widgets_changed), d);
  g_signal_connect_swapped (d->seed, "value-changed", G_CALLBACK (widgets_changed), d);
  g_signal_connect_swapped (d->device, "changed", G_CALLBACK (widgets_changed), d);
  g_signal_connect_swapped (d->precision, "changed", G_CALLBACK (widgets_changed), d);
  g_signal_connect_swapped (d->memory, "value-changed", G_CALLBACK (widgets_changed), d);
  g_signal_connect_swapped (d->content_weight, "value-changed", G_CALLBACK (widgets_changed), d);
  g_signal_connect_swapped (d->style_weight, "value-changed", G_CALLBACK (widgets_changed), d);
  return expander;
}

static GtkWidget *
main_column (NsDialog *d)
{
  GtkWidget *grid = grid_new ();
  GtkWidget *swap;
  gint       row  = 0;

  d->content_combo = layer_combo_new (d, NULL);
  gimp_help_set_help_data (d->content_combo, _("The layer that is restyled; the result lands in "
                                               "a new layer above it"), NULL);
  labelled (grid, row++, _("_Photo:"), d->content_combo, NULL);

  swap = gtk_button_new_with_mnemonic (_("S_wap photo and painting"));
  g_signal_connect_swapped (swap, "clicked", G_CALLBACK (swap_clicked), d);
  grid_attach (grid, swap, 1, row++, 1);

  d->style_combo = layer_combo_new (d, NULL);
  gimp_help_set_help_data (d->style_combo, _("The layer whose colours and brushwork the photo "
                                             "takes (add one with File > Open as Layers...)"),
                           NULL);
  labelled (grid, row++, _("Pai_nting:"), d->style_combo, NULL);
  g_signal_connect (d->content_combo, "changed", G_CALLBACK (layers_changed), d);
  g_signal_connect (d->style_combo, "changed", G_CALLBACK (layers_changed), d);

  d->strength = scale_new (grid, row++, _("Style _strength:"), ns_restyle_strength (d->p), 0, 100, 0,
                           100, 0, FALSE, _("How much of the painting the result takes: low keeps "
                                            "the photo recognisable, high paints it over"));
  scale_connect (&d->strength, G_CALLBACK (strength_changed), d);

  d->brush = scale_new (grid, row++, _("_Brush size (%):"), 100.0 * d->p->e.style_scale, 25, 400,
                        100.0 * NS_PARAM_STYLE_SCALE_MIN, 100.0 * NS_PARAM_STYLE_SCALE_MAX,
                        0, TRUE, _("Size of the painting's strokes in the result: larger values "
                                   "give larger strokes"));
  scale_connect (&d->brush, G_CALLBACK (widgets_changed), d);

  d->keep_colours = gtk_check_button_new_with_mnemonic (_("_Keep the photo's colours"));
  gimp_help_set_help_data (d->keep_colours, _("Take only the painting's brushwork and keep the "
                                              "photo's colours"), NULL);
  g_signal_connect_swapped (d->keep_colours, "toggled", G_CALLBACK (widgets_changed), d);
  grid_attach (grid, d->keep_colours, 1, row++, 2);

  quality_row (d, grid, row++);

  d->estimate = wrapped_label_new ("", 420);
  grid_attach (grid, d->estimate, 0, row++, 3);

  grid_attach (grid, paintings_section (d), 0, row++, 3);
  grid_attach (grid, advanced_section (d), 0, row++, 3);
  return grid;
}

NsDialog *
ns_dialog_new (GtkWidget           *dialog,
               const NsDialogHost  *host,
               const NsLayerList   *layers,
               NsRestyleParams     *params,
               gint                *content,
               gint                *styles,
               gint                *channels,
               struct ns_context  **ctx)
{
  NsDialog  *d    = g_new0 (NsDialog, 1);
  GtkWidget *hbox = box_new (FALSE, 12);

  d->dialog      = dialog;
  d->host        = *host;
  d->layers      = layers;
  d->p           = params;
  d->content     = content;
  d->styles      = styles;
  d->channels    = channels;
  d->ctx         = ctx;
  d->ctx_device  = -1;
  d->custom_size = ns_restyle_quality (params) == NS_QUALITY_CUSTOM ? params->e.size : 1024;

  gtk_container_set_border_width (GTK_CONTAINER (hbox), 12);
  gtk_box_pack_start (GTK_BOX (hbox), preview_column (d), FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (hbox), main_column (d), TRUE, TRUE, 0);
  gtk_box_pack_start (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (dialog))), hbox, TRUE, TRUE, 0);
  gtk_widget_show_all (hbox);

  open_engine (d);
  fill_content_layers (d);
  d->p->paintings = paintings_in_use (d);
  show_params (d);
  show_photo (d);
  refresh (d);
  return d;
}

void
ns_dialog_set_params (NsDialog              *d,
                      const NsRestyleParams *params)
{
  *d->p = *params;
  open_engine (d);
  show_params (d);
  refresh (d);
}

void
ns_dialog_free (NsDialog *d)
{
  stop_preview (d);
  g_free (d);
}
