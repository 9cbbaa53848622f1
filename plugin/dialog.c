/* dialog.c - the Neural Style dialog for GIMP 2.10 (GTK 2) and 3.0 (GTK 3).
 *
 * The preview on the left; on the right, tabs as in GIMP's own large
 * filters: what a photographer decides (which layer is the photo and which
 * the painting, style strength, brush size...), the extra paintings and
 * their regions, and the advanced settings, built from the engine's table
 * of settings (dialog-settings.c) and scrolled when they outgrow the other
 * tabs.  Below the tabs, always in view: quality and the estimate, in a
 * box of a fixed height, so that nothing moves when they change.  The GTK
 * 2 / GTK 3 helpers are in dialog-widgets.c.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "dialog.h"
#include "dialog-private.h"

#define PREVIEW_SIZE       192
#define PREVIEW_ITERATIONS 50
/* the estimate's box: lines it holds without growing, its width in px */
#define ESTIMATE_LINES     6
#define TEXT_WIDTH         420

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

  GtkWidget           *style_page;
  GtkWidget           *paintings_page;
  GtkWidget           *advanced_scroll;

  GtkWidget           *content_combo;
  GtkWidget           *style_combo;
  NsScale              strength;
  NsScale              brush;
  NsScale              iterations;
  NsSettingRows       *main_rows;
  GtkWidget           *quality[3];
  GtkWidget           *size_spin;
  GtkWidget           *estimate;
  gint                 estimate_height;  /* ESTIMATE_LINES lines, px */

  GtkWidget           *preset;
  GtkWidget           *device;
  GtkWidget           *content_layer;
  GtkWidget           *all_layers;
  NsSettingRows       *advanced_rows;

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

/* The region combo's rows: the fixed choices, then the image's channels by ID */
#define REGION_WHOLE     (-1)
#define REGION_SELECTION (-2)
#define REGION_MASK      (-3)

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
  ns_label_set_text (d->preview_note, text, FALSE);
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

/* The preset the settings make, and the layers' own widgets (Advanced). */
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
  content_layer_set (d, ns_restyle_get_text (d->p, ns_setting_find ("content-layers")));
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (d->all_layers),
                                ! strcmp (ns_restyle_get_text (d->p, ns_setting_find ("style-layers")), "all"));
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
        ns_combo_set (d->painting[k], d->styles[k]);
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (d->blend[k]), d->p->blend[k]);
      ns_combo_set (d->region[k], region_id (d, k));
    }
}

/* Puts p into every widget (nothing fires back while it does). */
static void
show_params (NsDialog *d)
{
  NsQuality q = ns_restyle_quality (d->p);

  d->updating = TRUE;
  ns_scale_set (&d->strength, ns_restyle_strength (d->p));
  ns_scale_set (&d->brush, 100.0 * d->p->e.style_scale);
  ns_scale_set (&d->iterations, d->p->e.iterations);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (d->quality[q]), TRUE);
  if (q == NS_QUALITY_CUSTOM)
    d->custom_size = d->p->e.size;
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (d->size_spin), d->custom_size);
  gtk_combo_box_set_active (GTK_COMBO_BOX (d->device), d->p->device);
  ns_setting_rows_show (d->main_rows, d->p);
  ns_setting_rows_show (d->advanced_rows, d->p);
  ns_combo_set (d->content_combo, *d->content);
  ns_combo_set (d->style_combo, d->styles[0]);
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

/* The estimate's text: its box keeps ESTIMATE_LINES lines' height, more
 * only when the text needs it, so that the dialog does not move. */
static void
show_estimate (NsDialog    *d,
               const gchar *markup)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (d->estimate, NULL);
  gint         height = 0;

  ns_label_set_text (d->estimate, markup, TRUE);
  pango_layout_set_markup (layout, gtk_label_get_label (GTK_LABEL (d->estimate)), -1);
  pango_layout_set_width (layout, TEXT_WIDTH * PANGO_SCALE);
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_get_pixel_size (layout, NULL, &height);
  g_object_unref (layout);
  gtk_widget_set_size_request (d->estimate, TEXT_WIDTH, MAX (height, d->estimate_height));
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
    show_estimate (d, text);
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
  /* a seed only matters for noise, the fast style for its start, the
     precision only on a GPU */
  ns_setting_rows_set_sensitive (d->advanced_rows, "seed", d->p->e.init == NS_INIT_NOISE);
  ns_setting_rows_set_sensitive (d->advanced_rows, "init-model", d->p->e.init == NS_INIT_MODEL);
  ns_setting_rows_set_sensitive (d->advanced_rows, "precision", gpu);
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
  const struct ns_setting *style_layers = ns_setting_find ("style-layers");
  gint                     row  = gtk_combo_box_get_active (GTK_COMBO_BOX (d->content_layer));
  gchar                   *name = row > 0 ? gtk_combo_box_text_get_active_text (GTK_COMBO_BOX_TEXT (d->content_layer))
                                          : NULL;

  ns_restyle_set_text (d->p, ns_setting_find ("content-layers"), name);
  /* "all", or the default; a Script-Fu list stays while the box is not touched */
  if (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (d->all_layers)))
    ns_restyle_set_text (d->p, style_layers, "all");
  else if (! strcmp (ns_restyle_get_text (d->p, style_layers), "all"))
    ns_restyle_set_text (d->p, style_layers, "");
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
      gint id = ns_combo_get (d->painting[k]);

      d->styles[k] = id == *d->content || (k == 2 && d->styles[1] == -1) ? -1 : id;
    }
  for (k = 0; k < NS_MAX_PAINTINGS; k++)
    {
      d->p->blend[k] = ns_spin_get (d->blend[k]);
      set_region (d, k, ns_combo_get (d->region[k]));
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

  d->p->e.style_scale = ns_scale_get (&d->brush) / 100.0;
  d->p->e.iterations  = (gint) (ns_scale_get (&d->iterations) + 0.5);
  d->custom_size      = (gint) ns_spin_get (d->size_spin);
  for (q = 0; q < 3; q++)
    if (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (d->quality[q])))
      d->p->e.size = q == NS_QUALITY_DRAFT ? NS_DRAFT_SIZE : q == NS_QUALITY_FINAL ? 0 : d->custom_size;
  d->p->device = MAX (0, gtk_combo_box_get_active (GTK_COMBO_BOX (d->device)));
  ns_setting_rows_read (d->main_rows, d->p);
  ns_setting_rows_read (d->advanced_rows, d->p);
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
  ns_restyle_set_strength (d->p, ns_scale_get (&d->strength));
  d->updating = TRUE;
  ns_setting_rows_show (d->advanced_rows, d->p);
  d->updating = FALSE;
  refresh (d);
  if (d->host.changed)
    d->host.changed (d->p, d->host.data);
}

static void
layers_changed (GtkWidget *combo,
                NsDialog  *d)
{
  gint content = ns_combo_get (d->content_combo);
  gint style   = ns_combo_get (d->style_combo);
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
preview_column (NsDialog *d)
{
  GtkWidget *vbox  = ns_box_new (TRUE, 6);
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

  d->preview_note = ns_wrapped_label_new (_("Press Preview to try the settings on a small copy."),
                                          PREVIEW_SIZE);
  gtk_box_pack_start (GTK_BOX (vbox), d->preview_note, FALSE, FALSE, 0);
  return vbox;
}

/* Quality: Draft, Final or a size; under the tabs, beside the estimate. */
static GtkWidget *
quality_row (NsDialog *d)
{
  GtkWidget   *hbox  = ns_box_new (FALSE, 6);
  GSList      *group = NULL;
  const gchar *names[3] = { _("_Draft"), _("_Final"), _("Cus_tom:") };
  const gchar *tips[3]  = { N_("Quick: restyles at 512 px on the longest side and enlarges the "
                               "result to the layer"),
                            N_("The layer's full resolution, or the largest size this machine "
                               "holds in memory"),
                            N_("An exact size, in pixels on the longest side") };
  gint         q;

  gtk_box_pack_start (GTK_BOX (hbox), ns_label_new (_("Quality:"), FALSE), FALSE, FALSE, 0);
  for (q = 0; q < 3; q++)
    {
      d->quality[q] = gtk_radio_button_new_with_mnemonic (group, names[q]);
      group = gtk_radio_button_get_group (GTK_RADIO_BUTTON (d->quality[q]));
      gimp_help_set_help_data (d->quality[q], gettext (tips[q]), NULL);
      g_signal_connect_swapped (d->quality[q], "toggled", G_CALLBACK (widgets_changed), d);
      gtk_box_pack_start (GTK_BOX (hbox), d->quality[q], FALSE, FALSE, 0);
    }
  d->size_spin = ns_spin_new (d->custom_size, 64, NS_PARAM_SIZE_MAX, 16, 0);
  g_signal_connect_swapped (d->size_spin, "value-changed", G_CALLBACK (widgets_changed), d);
  gtk_box_pack_start (GTK_BOX (hbox), d->size_spin, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (hbox), ns_label_new (_("px"), FALSE), FALSE, FALSE, 0);
  return hbox;
}

/* Up to three paintings, each with a weight and a region. */
static GtkWidget *
paintings_page (NsDialog *d)
{
  GtkWidget   *grid = ns_grid_new ();
  const gchar *labels[NS_MAX_PAINTINGS] = { N_("Painting 1:"), N_("Painting _2:"), N_("Painting _3:") };
  gint         k, row = 0;

  ns_grid_attach (grid, ns_wrapped_label_new (_("Each painting acts where its region is white (a "
                                                "selection, a channel, or the painting layer's own "
                                                "mask); outside every region the photo stays exactly "
                                                "as it is. Without regions the paintings are blended by "
                                                "weight."), TEXT_WIDTH), 0, row++, 4);
  ns_grid_attach (grid, ns_label_new (_("Weight"), FALSE), 2, row, 1);
  ns_grid_attach (grid, ns_label_new (_("Region"), FALSE), 3, row++, 1);
  for (k = 0; k < NS_MAX_PAINTINGS; k++, row++)
    {
      GtkWidget *label = ns_label_new (gettext (labels[k]), k > 0);

      d->painting[k] = k ? ns_layer_combo_new (d->layers, d->host.thumbnail, _("None")) : ns_label_new ("", FALSE);
      if (k)
        gtk_label_set_mnemonic_widget (GTK_LABEL (label), d->painting[k]);
      d->blend[k] = ns_spin_new (d->p->blend[k], 0, 1e6, 0.1, 2);
      gimp_help_set_help_data (d->blend[k], _("The painting's share of the style; with regions, "
                                              "its strength in its region"), NULL);
      d->region[k] = ns_region_combo_new (d->layers);
      gimp_help_set_help_data (d->region[k], _("Where the painting acts"), NULL);
      ns_grid_attach (grid, label, 0, row, 1);
      ns_grid_attach (grid, d->painting[k], 1, row, 1);
      ns_grid_attach (grid, d->blend[k], 2, row, 1);
      ns_grid_attach (grid, d->region[k], 3, row, 1);
      if (k)
        g_signal_connect_swapped (d->painting[k], "changed", G_CALLBACK (widgets_changed), d);
      g_signal_connect_swapped (d->blend[k], "value-changed", G_CALLBACK (widgets_changed), d);
      g_signal_connect_swapped (d->region[k], "changed", G_CALLBACK (widgets_changed), d);
    }
  return grid;
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

/* The table's rows this dialog shows its own way: the size is Quality, the
 * iterations a slider, the style scale the brush size (on the first tab),
 * the layers a choice of the weights file's layers and a toggle. */
static gboolean
special_row (const struct ns_setting *s,
             GtkWidget               *grid,
             gint                    *row,
             gpointer                 data)
{
  NsDialog *d = data;

  if (s == ns_setting_find ("size") || s == ns_setting_find ("style-scale"))
    return TRUE;
  if (s == ns_setting_find ("iterations"))
    {
      d->iterations = ns_scale_new (grid, (*row)++, _("_Iterations:"), d->p->e.iterations, 20, 1000, s->min,
                                    s->max, 0, FALSE, _("Optimisation steps: more refine the result further; "
                                                        "100 to 300 are usually enough"));
      ns_scale_connect (&d->iterations, G_CALLBACK (widgets_changed), d);
      return TRUE;
    }
  if (s == ns_setting_find ("content-layers"))
    {
      d->content_layer = ns_text_combo_new (_("Default"), NULL);
      gimp_help_set_help_data (d->content_layer, _("The VGG layer whose features keep the photo's "
                                                   "shapes: deeper layers let the style change more"),
                               NULL);
      ns_labelled (grid, (*row)++, _("Content layer:"), d->content_layer, NULL);
      g_signal_connect_swapped (d->content_layer, "changed", G_CALLBACK (widgets_changed), d);
      return TRUE;
    }
  if (s == ns_setting_find ("style-layers"))
    {
      d->all_layers = gtk_check_button_new_with_mnemonic (_("Style from every layer"));
      gimp_help_set_help_data (d->all_layers, _("Match the painting at every layer of the network, "
                                                "not only the first of each block"), NULL);
      ns_grid_attach (grid, d->all_layers, 1, (*row)++, 2);
      g_signal_connect_swapped (d->all_layers, "toggled", G_CALLBACK (widgets_changed), d);
      return TRUE;
    }
  return FALSE;
}

/* Advanced: the preset and where to compute, then the table's rows. */
static GtkWidget *
advanced_page (NsDialog *d)
{
  const gchar *const *names = ns_preset_names ();
  const gchar *const *devices;
  GtkWidget          *grid  = ns_grid_new ();
  GtkWidget          *scroll;
  gint                i, row = 0;

  d->preset = ns_text_combo_new (_("Custom"), NULL);
  for (i = 0; names[i]; i++)
    gtk_combo_box_text_append_text (GTK_COMBO_BOX_TEXT (d->preset), ns_restyle_preset_label (names[i]));
  gimp_help_set_help_data (d->preset, _("Tested combinations of the settings below; changing "
                                        "one of them makes it Custom"), NULL);
  ns_labelled (grid, row++, _("Pr_eset:"), d->preset, NULL);
  g_signal_connect_swapped (d->preset, "changed", G_CALLBACK (preset_changed), d);

  ns_restyle_device_choices (&devices);
  d->device = gtk_combo_box_text_new ();
  for (i = 0; devices[i]; i++)
    gtk_combo_box_text_append_text (GTK_COMBO_BOX_TEXT (d->device), gettext (devices[i]));
  ns_labelled (grid, row++, _("Comp_ute on:"), d->device, NULL);
  g_signal_connect_swapped (d->device, "changed", G_CALLBACK (widgets_changed), d);

  d->advanced_rows = ns_setting_rows_new (NS_SETTING_ADVANCED, grid, &row, special_row,
                                          G_CALLBACK (widgets_changed), d);

  /* scrolled: the tabs stay as tall as the others (ns_dialog_new) */
  scroll = gtk_scrolled_window_new (NULL, NULL);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_shadow_type (GTK_SCROLLED_WINDOW (scroll), GTK_SHADOW_NONE);
  gtk_container_set_border_width (GTK_CONTAINER (grid), 6);
#ifdef NS_GTK3
  gtk_scrolled_window_set_propagate_natural_width (GTK_SCROLLED_WINDOW (scroll), TRUE);
  gtk_container_add (GTK_CONTAINER (scroll), grid);
#else
  gtk_scrolled_window_add_with_viewport (GTK_SCROLLED_WINDOW (scroll), grid);
  gtk_viewport_set_shadow_type (GTK_VIEWPORT (gtk_bin_get_child (GTK_BIN (scroll))), GTK_SHADOW_NONE);
#endif
  d->advanced_scroll = scroll;
  return scroll;
}

static GtkWidget *
style_page (NsDialog *d)
{
  GtkWidget *grid = ns_grid_new ();
  GtkWidget *swap;
  gint       row  = 0;

  d->content_combo = ns_layer_combo_new (d->layers, d->host.thumbnail, NULL);
  gimp_help_set_help_data (d->content_combo, _("The layer that is restyled; the result lands in "
                                               "a new layer above it"), NULL);
  ns_labelled (grid, row++, _("_Photo:"), d->content_combo, NULL);

  swap = gtk_button_new_with_mnemonic (_("S_wap photo and painting"));
  g_signal_connect_swapped (swap, "clicked", G_CALLBACK (swap_clicked), d);
  ns_grid_attach (grid, swap, 1, row++, 1);

  d->style_combo = ns_layer_combo_new (d->layers, d->host.thumbnail, NULL);
  gimp_help_set_help_data (d->style_combo, _("The layer whose colours and brushwork the photo "
                                             "takes (add one with File > Open as Layers...)"),
                           NULL);
  ns_labelled (grid, row++, _("Pai_nting:"), d->style_combo, NULL);
  g_signal_connect (d->content_combo, "changed", G_CALLBACK (layers_changed), d);
  g_signal_connect (d->style_combo, "changed", G_CALLBACK (layers_changed), d);

  d->strength = ns_scale_new (grid, row++, _("Style stren_gth:"), ns_restyle_strength (d->p), 0, 100, 0,
                              100, 0, FALSE, _("How much of the painting the result takes: low keeps "
                                               "the photo recognisable, high paints it over"));
  ns_scale_connect (&d->strength, G_CALLBACK (strength_changed), d);

  d->brush = ns_scale_new (grid, row++, _("_Brush size (%):"), 100.0 * d->p->e.style_scale, 25, 400,
                           100.0 * NS_PARAM_STYLE_SCALE_MIN, 100.0 * NS_PARAM_STYLE_SCALE_MAX,
                           0, TRUE, _("Size of the painting's strokes in the result: larger values "
                                      "give larger strokes"));
  ns_scale_connect (&d->brush, G_CALLBACK (widgets_changed), d);

  d->main_rows = ns_setting_rows_new (NS_SETTING_MAIN, grid, &row, special_row, G_CALLBACK (widgets_changed), d);
  return grid;
}

static void
add_page (GtkWidget   *notebook,
          GtkWidget   *page,
          const gchar *tab)
{
  gtk_container_set_border_width (GTK_CONTAINER (page), 12);
  gtk_notebook_append_page (GTK_NOTEBOOK (notebook), page, gtk_label_new_with_mnemonic (tab));
}

static gint
height_of (GtkWidget *widget)
{
#ifdef NS_GTK3
  gint height = 0;

  gtk_widget_get_preferred_height (widget, NULL, &height);
  return height;
#else
  GtkRequisition req;

  gtk_widget_size_request (widget, &req);
  return req.height;
#endif
}

/* The tabs, then quality and the estimate. */
static GtkWidget *
main_column (NsDialog *d)
{
  GtkWidget *vbox     = ns_box_new (TRUE, 12);
  GtkWidget *notebook = gtk_notebook_new ();

  d->style_page     = style_page (d);
  d->paintings_page = paintings_page (d);
  add_page (notebook, d->style_page, _("St_yle"));
  add_page (notebook, d->paintings_page, _("E_xtra paintings and regions"));
  add_page (notebook, advanced_page (d), _("_Advanced"));
  gtk_box_pack_start (GTK_BOX (vbox), notebook, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (vbox), quality_row (d), FALSE, FALSE, 0);

  d->estimate = ns_wrapped_label_new ("", TEXT_WIDTH);
#ifdef NS_GTK3
  gtk_label_set_yalign (GTK_LABEL (d->estimate), 0.0);
#else
  gtk_misc_set_alignment (GTK_MISC (d->estimate), 0.0, 0.0);
#endif
  d->estimate_height = ns_lines_height (d->estimate, ESTIMATE_LINES);
  gtk_box_pack_start (GTK_BOX (vbox), d->estimate, FALSE, FALSE, 0);
  return vbox;
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
  GtkWidget *hbox = ns_box_new (FALSE, 12);

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
  /* Advanced scrolls within the height of the other tabs: the dialog fits
   * a laptop's screen however many settings the table gains */
  gtk_widget_set_size_request (d->advanced_scroll, -1,
                               MAX (height_of (d->style_page), height_of (d->paintings_page)));

  open_engine (d);
  fill_content_layers (d);
  d->p->paintings = paintings_in_use (d);
  show_params (d);
  show_photo (d);
  refresh (d);
  ns_check_mnemonics (dialog);
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
  ns_setting_rows_free (d->main_rows);
  ns_setting_rows_free (d->advanced_rows);
  g_free (d);
}
