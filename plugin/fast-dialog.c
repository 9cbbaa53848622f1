/* fast-dialog.c - the Neural Style (Fast) dialog, shared by the GIMP 2.10
 * (GTK 2) and 3.0 (GTK 3) plug-ins: a gallery of the installed styles, a
 * live preview, Strength, Brush size and Keep colours.
 *
 * The gallery shows each style's painting where its model carries one,
 * else the photo itself through the style (the public models carry no
 * picture of their painting), made one per idle call so that the dialog
 * opens at once.  The preview is the middle of the
 * photo at 1:1, as OK will restyle it: the network runs in a thread when
 * the style or the brush size changes, and its full-strength result is
 * kept, so that Strength and Keep colours show at once.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "dialog-private.h"
#include "fast-dialog.h"

/* The preview's crop at 1:1; its network takes about half a second on 2
 * cores at brush size 1 (make bench-fast's preview line). */
#define PREVIEW_W   448
#define PREVIEW_H   320
#define THUMB_SIZE  96
#define BRUSH_DELAY 200   /* ms after the last brush size change */

enum { COL_PIXBUF, COL_TITLE, COL_TIP, COL_INDEX, N_COLS };

struct _NsFastDialog
{
  GtkWidget             *dialog;
  NsFastParams          *p;
  NsFastChanged          changed;
  gpointer               changed_data;
  gboolean               showing;    /* set_params is moving the widgets */
  struct ns_context    **ctx;
  struct ns_context     *thumb_ctx;  /* the thumbnails', on the CPU, beside the preview's thread */
  GPtrArray             *styles;
  GtkListStore          *store;
  GtkWidget             *gallery;
  GtkWidget             *preview;
  GtkWidget             *note;
  NsScale                strength;
  NsScale                brush;
  GtkWidget             *colors;
  struct ns_image        thumb_photo;
  struct ns_image        photo;      /* the preview's crop */
  struct ns_image        styled;     /* its network result, data NULL = none yet */
  guint                  thumbs_idle;
  gint                   next_thumb;
  guint                  brush_timer;

  /* the preview's thread: it owns model and job_styled until it is joined */
  GThread               *thread;
  struct ns_style_model *model;
  gchar                 *model_name;
  gdouble                job_brush;
  struct ns_image        job_styled;
  gchar                 *job_why;
  gint64                 job_start;
  gint                   cancel;     /* atomic */
  gint                   done;       /* atomic */
  guint                  poll_timer;
};

/* ---- the preview ---- */

static void
tell (NsFastDialog *d)
{
  if (d->changed && ! d->showing)
    d->changed (d->p, d->changed_data);
}

static void
free_pixels (guchar   *pixels,
             gpointer  data)
{
  g_free (pixels);
}

static GdkPixbuf *
pixbuf_of (guchar *rgb,
           gint    w,
           gint    h)
{
  return gdk_pixbuf_new_from_data (rgb, GDK_COLORSPACE_RGB, FALSE, 8, w, h, 3 * w, free_pixels, NULL);
}

/* The photo's crop, or the cached result with the current Strength and
 * Keep colours. */
static void
show_preview (NsFastDialog *d)
{
  const struct ns_image *im  = &d->photo;
  NsFastParams           raw = *d->p;
  GdkPixbuf             *pixbuf;

  if (! d->styled.data)
    raw.strength = 0;  /* the photo itself until the style is ready */
  pixbuf = pixbuf_of (ns_fast_compose8 (im, d->styled.data ? &d->styled : im, &raw), im->width, im->height);
  gtk_image_set_from_pixbuf (GTK_IMAGE (d->preview), pixbuf);
  g_object_unref (pixbuf);
}

static bool
job_progress (float  done,
              void  *data)
{
  return ! g_atomic_int_get (&((NsFastDialog *) data)->cancel);
}

static gpointer
job_run (gpointer data)
{
  NsFastDialog *d = data;

  ns_fast_style_image (*d->ctx, d->model, &d->photo, d->job_brush, &d->job_styled, job_progress, d,
                       &d->job_why);
  g_atomic_int_set (&d->done, 1);
  return NULL;
}

/* Joins the thread (cancelled first when `cancel`); its result becomes
 * the shown one. */
static void
end_job (NsFastDialog *d,
         gboolean      cancel)
{
  gdouble seconds;

  if (! d->thread)
    return;
  if (d->poll_timer)
    g_source_remove (d->poll_timer);
  d->poll_timer = 0;
  g_atomic_int_set (&d->cancel, cancel);
  g_thread_join (d->thread);
  d->thread = NULL;
  seconds   = (g_get_monotonic_time () - d->job_start) / 1e6;
  if (d->job_styled.data)
    {
      gchar *note;

      g_free (d->styled.data);
      d->styled = d->job_styled;
      d->job_styled.data = NULL;
      /* TRANSLATORS: under the preview; %.1f is the seconds it took */
      note = g_strdup_printf (_("The middle of the photo at 1:1, as OK restyles it (%.1f s)."), seconds);
      ns_label_set_text (d->note, note, FALSE);
      g_free (note);
      show_preview (d);
    }
  else if (! cancel && d->job_why)
    ns_label_set_text (d->note, d->job_why, FALSE);
  g_clear_pointer (&d->job_why, g_free);
}

static gboolean
poll_job (gpointer data)
{
  NsFastDialog *d = data;

  if (! g_atomic_int_get (&d->done))
    return G_SOURCE_CONTINUE;
  d->poll_timer = 0;
  end_job (d, FALSE);
  return G_SOURCE_REMOVE;
}

/* The chosen style's model, loaded when it changed (no thread runs). */
static gboolean
load_model (NsFastDialog *d)
{
  GError *error = NULL;

  if (d->model && ! g_strcmp0 (d->model_name, d->p->style))
    return TRUE;
  ns_style_model_free (d->model);
  g_free (d->model_name);
  d->model      = ns_fast_load (d->p->style, &error);
  d->model_name = g_strdup (d->p->style);
  if (error)
    ns_label_set_text (d->note, error->message, FALSE);
  g_clear_error (&error);
  return d->model != NULL;
}

/* Restyles the crop again in the thread (style or brush size changed). */
static void
start_job (NsFastDialog *d)
{
  end_job (d, TRUE);
  g_clear_pointer (&d->styled.data, g_free);
  if (! *d->ctx || ! d->p->style[0] || ! load_model (d))
    {
      show_preview (d);
      return;
    }
  ns_label_set_text (d->note, _("Restyling the middle of the photo..."), FALSE);
  d->job_brush  = d->p->brush_size;
  d->job_start  = g_get_monotonic_time ();
  g_atomic_int_set (&d->cancel, 0);
  g_atomic_int_set (&d->done, 0);
  d->thread     = g_thread_new ("neural-style-fast-preview", job_run, d);
  d->poll_timer = g_timeout_add (50, poll_job, d);
}

/* ---- the gallery ---- */

static const NsFastStyle *
style_at (NsFastDialog *d,
          gint          k)
{
  return g_ptr_array_index (d->styles, k);
}

/* The painting's picture a style carries, fitted to THUMB_SIZE, or NULL. */
static GdkPixbuf *
painting_of (const NsFastStyle *s)
{
  GdkPixbufLoader *loader = gdk_pixbuf_loader_new_with_type ("png", NULL);
  GdkPixbuf       *pixbuf = NULL;
  gsize            n;
  const guchar    *png    = s->painting ? g_bytes_get_data (s->painting, &n) : NULL;

  if (png && loader && gdk_pixbuf_loader_write (loader, png, n, NULL) && gdk_pixbuf_loader_close (loader, NULL))
    {
      GdkPixbuf *full  = gdk_pixbuf_loader_get_pixbuf (loader);
      gint       w     = gdk_pixbuf_get_width (full);
      gint       h     = gdk_pixbuf_get_height (full);
      gdouble    scale = MIN (1.0, (gdouble) THUMB_SIZE / MAX (w, h));

      pixbuf = gdk_pixbuf_scale_simple (full, MAX (1, w * scale), MAX (1, h * scale), GDK_INTERP_BILINEAR);
    }
  else if (loader)
    gdk_pixbuf_loader_close (loader, NULL);
  g_clear_object (&loader);
  return pixbuf;
}

/* One style's thumbnail per idle call: its painting, or the photo through it. */
static gboolean
next_thumbnail (gpointer data)
{
  NsFastDialog          *d = data;
  struct ns_style_model *m = NULL;
  struct ns_image        styled;
  GtkTreeIter            iter;
  GdkPixbuf             *painting;
  gchar                  err[600];

  if (d->next_thumb >= (gint) d->styles->len || ! d->thumb_ctx)
    {
      d->thumbs_idle = 0;
      return G_SOURCE_REMOVE;
    }
  painting = painting_of (style_at (d, d->next_thumb));
  if (painting && gtk_tree_model_iter_nth_child (GTK_TREE_MODEL (d->store), &iter, NULL, d->next_thumb))
    gtk_list_store_set (d->store, &iter, COL_PIXBUF, painting, -1);
  if (painting)
    {
      g_object_unref (painting);
      d->next_thumb++;
      return G_SOURCE_CONTINUE;
    }
  if (ns_style_model_load (style_at (d, d->next_thumb)->path, &m, err, sizeof err) == NS_STATUS_OK &&
      ns_fast_style_image (d->thumb_ctx, m, &d->thumb_photo, 1.0, &styled, NULL, NULL, NULL) &&
      gtk_tree_model_iter_nth_child (GTK_TREE_MODEL (d->store), &iter, NULL, d->next_thumb))
    {
      NsFastParams full   = ns_fast_defaults ();
      GdkPixbuf   *pixbuf = pixbuf_of (ns_fast_compose8 (&d->thumb_photo, &styled, &full),
                                       styled.width, styled.height);

      gtk_list_store_set (d->store, &iter, COL_PIXBUF, pixbuf, -1);
      g_object_unref (pixbuf);
      g_free (styled.data);
    }
  ns_style_model_free (m);
  d->next_thumb++;
  return G_SOURCE_CONTINUE;
}

static void
style_chosen (GtkIconView  *view,
              NsFastDialog *d)
{
  GList       *sel = gtk_icon_view_get_selected_items (view);
  GtkTreeIter  iter;
  gint         k   = -1;

  if (sel && gtk_tree_model_get_iter (GTK_TREE_MODEL (d->store), &iter, sel->data))
    gtk_tree_model_get (GTK_TREE_MODEL (d->store), &iter, COL_INDEX, &k, -1);
  g_list_free_full (sel, (GDestroyNotify) gtk_tree_path_free);
  if (k < 0 || ! g_strcmp0 (d->p->style, style_at (d, k)->name))
    return;
  ns_fast_set_style (d->p, style_at (d, k)->name);
  tell (d);
  start_job (d);
}

static void
select_style (NsFastDialog *d,
              gint          k)
{
  GtkTreePath *path = gtk_tree_path_new_from_indices (k, -1);

  gtk_icon_view_select_path (GTK_ICON_VIEW (d->gallery), path);
  gtk_icon_view_set_cursor (GTK_ICON_VIEW (d->gallery), path, NULL, FALSE);
  gtk_tree_path_free (path);
}

static GtkWidget *
gallery_new (NsFastDialog *d)
{
  GtkWidget *scroll = gtk_scrolled_window_new (NULL, NULL);
  GdkPixbuf *blank  = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, THUMB_SIZE, THUMB_SIZE * 2 / 3);
  gint       chosen = 0;
  guint      k;

  gdk_pixbuf_fill (blank, 0x808080ff);
  d->store = gtk_list_store_new (N_COLS, GDK_TYPE_PIXBUF, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_INT);
  for (k = 0; k < d->styles->len; k++)
    {
      const NsFastStyle *s   = style_at (d, k);
      gchar             *tip = ns_fast_style_tooltip (s);
      GtkTreeIter        iter;

      gtk_list_store_append (d->store, &iter);
      gtk_list_store_set (d->store, &iter, COL_PIXBUF, blank, COL_TITLE, s->title, COL_TIP, tip,
                          COL_INDEX, (gint) k, -1);
      if (! g_strcmp0 (s->name, d->p->style))
        chosen = k;
      g_free (tip);
    }
  g_object_unref (blank);

  d->gallery = gtk_icon_view_new_with_model (GTK_TREE_MODEL (d->store));
  gtk_icon_view_set_pixbuf_column (GTK_ICON_VIEW (d->gallery), COL_PIXBUF);
  gtk_icon_view_set_text_column (GTK_ICON_VIEW (d->gallery), COL_TITLE);
  gtk_icon_view_set_tooltip_column (GTK_ICON_VIEW (d->gallery), COL_TIP);
  gtk_icon_view_set_selection_mode (GTK_ICON_VIEW (d->gallery), GTK_SELECTION_BROWSE);
  gtk_icon_view_set_item_width (GTK_ICON_VIEW (d->gallery), THUMB_SIZE);
  gtk_icon_view_set_columns (GTK_ICON_VIEW (d->gallery), 2);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_shadow_type (GTK_SCROLLED_WINDOW (scroll), GTK_SHADOW_IN);
  gtk_container_add (GTK_CONTAINER (scroll), d->gallery);
  gtk_widget_set_size_request (scroll, 2 * THUMB_SIZE + 64, PREVIEW_H);

  /* the chosen style is the last run's, else the first */
  ns_fast_set_style (d->p, style_at (d, chosen)->name);
  select_style (d, chosen);
  g_signal_connect (d->gallery, "selection-changed", G_CALLBACK (style_chosen), d);
  return scroll;
}

/* ---- the controls ---- */

static void
strength_changed (NsFastDialog *d)
{
  d->p->strength = ns_scale_get (&d->strength);
  tell (d);
  show_preview (d);
}

static void
colors_toggled (GtkToggleButton *button,
                NsFastDialog    *d)
{
  d->p->keep_colors = gtk_toggle_button_get_active (button);
  tell (d);
  show_preview (d);
}

static gboolean
brush_settled (gpointer data)
{
  NsFastDialog *d = data;

  d->brush_timer = 0;
  if (d->p->brush_size != d->job_brush || ! d->styled.data)
    start_job (d);
  return G_SOURCE_REMOVE;
}

static void
brush_changed (NsFastDialog *d)
{
  d->p->brush_size = ns_scale_get (&d->brush);
  tell (d);
  if (d->brush_timer)
    g_source_remove (d->brush_timer);
  d->brush_timer = g_timeout_add (BRUSH_DELAY, brush_settled, d);
}

static const NsFastSetting *
setting (const gchar *name)
{
  gint                 n, i;
  const NsFastSetting *t = ns_fast_settings (&n);

  for (i = 0; i < n; i++)
    if (! strcmp (t[i].name, name))
      return &t[i];
  g_return_val_if_reached (NULL);
}

static NsScale
scale_of (NsFastDialog *d,
          GtkWidget    *grid,
          gint          row,
          const gchar  *name,
          gdouble       soft_hi,
          gboolean      logarithmic)
{
  const NsFastSetting *s = setting (name);

  return ns_scale_new (grid, row, _(s->label), ns_fast_get (d->p, s), s->min, soft_hi, s->min, s->max,
                       s->digits, logarithmic, _(s->help));
}

static GtkWidget *
controls_new (NsFastDialog *d)
{
  GtkWidget *grid = ns_grid_new ();

  d->strength = scale_of (d, grid, 0, "strength", 100, FALSE);
  d->brush    = scale_of (d, grid, 1, "brush-size", 4, TRUE);
  /* GIMP 3's scale entries start at their lower bound whatever the value */
  ns_scale_set (&d->strength, d->p->strength);
  ns_scale_set (&d->brush, d->p->brush_size);
  d->colors   = gtk_check_button_new_with_mnemonic (_(setting ("keep-colors")->label));
  gimp_help_set_help_data (d->colors, _(setting ("keep-colors")->help), NULL);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (d->colors), d->p->keep_colors);
  ns_grid_attach (grid, d->colors, 0, 2, 3);
  ns_scale_connect (&d->strength, G_CALLBACK (strength_changed), d);
  ns_scale_connect (&d->brush, G_CALLBACK (brush_changed), d);
  g_signal_connect (d->colors, "toggled", G_CALLBACK (colors_toggled), d);
  return grid;
}

/* ---- the dialog ---- */

static GtkWidget *
preview_column (NsFastDialog *d)
{
  GtkWidget *box   = ns_box_new (TRUE, 6);
  GtkWidget *frame = gtk_frame_new (NULL);

  d->preview = gtk_image_new ();
  gtk_widget_set_size_request (d->preview, PREVIEW_W, PREVIEW_H);
  gtk_frame_set_shadow_type (GTK_FRAME (frame), GTK_SHADOW_IN);
  gtk_container_add (GTK_CONTAINER (frame), d->preview);
  d->note = ns_wrapped_label_new ("", PREVIEW_W);
  gtk_box_pack_start (GTK_BOX (box), frame, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box), d->note, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box), controls_new (d), FALSE, FALSE, 0);
  return box;
}

NsFastDialog *
ns_fast_dialog_new (GtkWidget          *dialog,
                    GeglBuffer         *photo,
                    NsFastParams       *params,
                    struct ns_context **ctx,
                    NsFastChanged       changed,
                    gpointer            data)
{
  NsFastDialog *d     = g_new0 (NsFastDialog, 1);
  GtkWidget    *hbox  = ns_box_new (FALSE, 12);
  GtkWidget    *left  = ns_box_new (TRUE, 6);
  GError       *error = NULL;

  d->dialog      = dialog;
  d->p           = params;
  d->changed     = changed;
  d->changed_data = data;
  d->ctx         = ctx;
  d->styles      = ns_fast_styles ();
  d->photo       = ns_fast_read (photo, 0, PREVIEW_W, PREVIEW_H);
  d->thumb_photo = ns_fast_read (photo, THUMB_SIZE, THUMB_SIZE, THUMB_SIZE);
  if (! *ctx)
    *ctx = ns_fast_open (params->device, &error);
  ns_context_new_device (NS_BACKEND_CPU, 0, &d->thumb_ctx);

  gtk_container_set_border_width (GTK_CONTAINER (hbox), 12);
  if (d->styles->len)
    {
      GtkWidget *label   = ns_label_new (_(setting ("style")->label), TRUE);
      GtkWidget *gallery = gallery_new (d);

      gtk_label_set_mnemonic_widget (GTK_LABEL (label), d->gallery);
      gtk_box_pack_start (GTK_BOX (left), label, FALSE, FALSE, 0);
      gtk_box_pack_start (GTK_BOX (left), gallery, TRUE, TRUE, 0);
      d->thumbs_idle = g_idle_add (next_thumbnail, d);
    }
  else
    {
      gtk_box_pack_start (GTK_BOX (left), ns_wrapped_label_new (ns_fast_none_text (), 2 * THUMB_SIZE + 64),
                          FALSE, FALSE, 0);
      gtk_dialog_set_response_sensitive (GTK_DIALOG (dialog), GTK_RESPONSE_OK, FALSE);
    }
  gtk_box_pack_start (GTK_BOX (hbox), left, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (hbox), preview_column (d), TRUE, TRUE, 0);
  gtk_box_pack_start (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (dialog))), hbox, TRUE, TRUE, 0);
  gtk_widget_show_all (hbox);
  if (d->styles->len)
    gtk_widget_grab_focus (d->gallery);

  if (error)
    ns_label_set_text (d->note, error->message, FALSE);
  g_clear_error (&error);
  start_job (d);
  ns_check_mnemonics (dialog);
  return d;
}

void
ns_fast_dialog_set_params (NsFastDialog       *d,
                           const NsFastParams *params)
{
  guint k;

  d->showing = TRUE;
  ns_scale_set (&d->strength, params->strength);
  ns_scale_set (&d->brush, params->brush_size);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (d->colors), params->keep_colors);
  d->p->device = params->device;
  for (k = 0; k < d->styles->len; k++)
    if (! g_strcmp0 (style_at (d, k)->name, params->style))
      select_style (d, k);  /* a style not installed keeps the one shown */
  d->showing = FALSE;
}

void
ns_fast_dialog_free (NsFastDialog *d)
{
  end_job (d, TRUE);
  if (d->thumbs_idle)
    g_source_remove (d->thumbs_idle);
  if (d->brush_timer)
    g_source_remove (d->brush_timer);
  ns_style_model_free (d->model);
  ns_context_free (d->thumb_ctx);
  g_ptr_array_unref (d->styles);
  g_clear_object (&d->store);
  g_free (d->model_name);
  g_free (d->styled.data);
  g_free (d->photo.data);
  g_free (d->thumb_photo.data);
  g_free (d);
}
