/* train-dialog.c - the Train Neural Style dialog and its progress window,
 * shared by the GIMP 2.10 (GTK 2) and 3.0 (GTK 3) plug-ins.
 *
 * Quick, Good and Best set the steps (the Steps box takes any number);
 * each shows its time from one step's seconds on this machine, which
 * train.c keeps from the last training or measures once.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "dialog-private.h"
#include "restyle-private.h"
#include "train-dialog.h"

#define THUMB_SIZE  128
#define SAMPLE_SIZE 256
#define POLL_MS     500
#define NOTE_WIDTH  380

struct _NsTrainDialog
{
  GtkWidget     *dialog;
  NsTrainParams *p;
  GeglBuffer    *painting;
  gboolean       showing;      /* set_params is moving the widgets */
  gdouble        per_step;     /* at p->size on p->device, -1 unknown */
  gint           device_seen;  /* the device per_step is for */
  GtkWidget     *name;
  GtkWidget     *photos;
  GtkWidget     *count;
  GtkWidget     *duration[NS_TRAIN_DURATIONS + 1];  /* the last: any other number of steps */
  GtkWidget     *steps;
  GtkWidget     *size;
  GtkWidget     *device;
  GtkWidget     *note;
};

static const NsFastSetting *
setting (const gchar *name)
{
  gint                 n, i;
  const NsFastSetting *t = ns_train_settings (&n);

  for (i = 0; i < n; i++)
    if (! strcmp (t[i].name, name))
      return &t[i];
  g_return_val_if_reached (NULL);
}

static gboolean
image_name (const gchar *name)
{
  static const gchar *const ext[] = { ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".gif", ".exr",
                                      ".ppm", ".pgm", NULL };
  const gchar *dot = strrchr (name, '.');
  gint         i;

  for (i = 0; dot && ext[i]; i++)
    if (! g_ascii_strcasecmp (dot, ext[i]))
      return TRUE;
  return FALSE;
}

/* "23 photos" under the folder chooser */
static void
count_photos (NsTrainDialog *d)
{
  GDir        *dir = g_dir_open (d->p->photos, 0, NULL);
  const gchar *f;
  gint         n = 0;
  gchar       *text;

  while (dir && (f = g_dir_read_name (dir)))
    n += image_name (f);
  if (dir)
    g_dir_close (dir);
  /* TRANSLATORS: the photos found in the chosen folder */
  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d photo", "%d photos", n), n);
  if (n < 4)
    {
      gchar *more = g_strdup_printf (_("%s: training needs at least 4, better a few dozen"), text);

      g_free (text);
      text = more;
    }
  gtk_label_set_text (GTK_LABEL (d->count), text);
  g_free (text);
}

/* The durations' times and the note, after any change. */
static void
tell (NsTrainDialog *d)
{
  gchar   *note;
  gint     k;

  if (d->device_seen != d->p->device)
    {
      NsTrainParams at256 = *d->p;

      at256.size     = 256;
      d->per_step    = ns_train_step_seconds (&at256, d->painting);
      d->device_seen = d->p->device;
    }
  for (k = 0; k <= NS_TRAIN_DURATIONS; k++)
    {
      gint    steps = k < NS_TRAIN_DURATIONS ? ns_train_duration_steps (k) : (gint) d->p->steps;
      gdouble scale = (d->p->size / 256.0) * (d->p->size / 256.0);
      gchar   time[64];
      gchar  *label;

      ns_restyle_format_duration (d->per_step > 0 ? d->per_step * scale * steps : -1, time, sizeof time);
      /* TRANSLATORS: "Quick: 400 steps, about 27 min"; the last is "Other" */
      label = g_strdup_printf (_("%s: %d steps, %s"),
                               k < NS_TRAIN_DURATIONS ? ns_train_duration_label (k) : _("Other"), steps, time);
      gtk_button_set_label (GTK_BUTTON (d->duration[k]), label);
      g_free (label);
    }
  gtk_widget_set_visible (d->duration[NS_TRAIN_DURATIONS],
                          gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (d->duration[NS_TRAIN_DURATIONS])));
  if (ns_train_running (d->p))
    note = g_strdup_printf (_("Training '%s' is going on: OK shows how far it is."), d->p->name);
  else if (ns_train_resumable (d->p))
    note = g_strdup_printf (_("Training '%s' stopped earlier: OK goes on from where it stopped."), d->p->name);
  else
    note = g_strdup (_("Training runs on its own: GIMP stays usable, and you can close its window. Stop keeps "
                       "what it has learnt; training the same name again goes on from there."));
  ns_label_set_text (d->note, note, FALSE);
  g_free (note);
}

static void
show_steps (NsTrainDialog *d)
{
  gint k;

  d->showing = TRUE;
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (d->steps), d->p->steps);
  for (k = 0; k < NS_TRAIN_DURATIONS; k++)
    if ((gint) d->p->steps == ns_train_duration_steps (k))
      break;
  /* not one of the three: Other, shown only then */
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (d->duration[k]), TRUE);
  d->showing = FALSE;
}

static void
duration_toggled (GtkToggleButton *button,
                  NsTrainDialog   *d)
{
  gint k;

  if (d->showing || ! gtk_toggle_button_get_active (button))
    return;
  for (k = 0; k < NS_TRAIN_DURATIONS; k++)
    if (GTK_WIDGET (button) == d->duration[k])
      d->p->steps = ns_train_duration_steps (k);
  show_steps (d);
  tell (d);
}

static void
changed (GtkWidget     *widget,
         NsTrainDialog *d)
{
  gchar *folder;

  if (d->showing)
    return;
  if (widget == d->name)
    ns_row_set_text (d->p, setting ("name"), gtk_entry_get_text (GTK_ENTRY (d->name)));
  else if (widget == d->photos && (folder = gtk_file_chooser_get_filename (GTK_FILE_CHOOSER (d->photos))))
    {
      ns_row_set_text (d->p, setting ("photos"), folder);
      g_free (folder);
      count_photos (d);
    }
  else if (widget == d->steps)
    {
      d->p->steps = ns_spin_get (d->steps);
      show_steps (d);
    }
  else if (widget == d->size)
    d->p->size = ns_spin_get (d->size);
  else if (widget == d->device)
    d->p->device = MAX (0, gtk_combo_box_get_active (GTK_COMBO_BOX (d->device)));
  tell (d);
}

static GtkWidget *
durations_new (NsTrainDialog *d)
{
  GtkWidget *box = ns_box_new (TRUE, 2);
  gint       k;

  for (k = 0; k <= NS_TRAIN_DURATIONS; k++)
    {
      d->duration[k] = gtk_radio_button_new_with_mnemonic_from_widget (
        k ? GTK_RADIO_BUTTON (d->duration[0]) : NULL,
        k < NS_TRAIN_DURATIONS ? ns_train_duration_label (k) : _("Other"));
      g_signal_connect (d->duration[k], "toggled", G_CALLBACK (duration_toggled), d);
      gtk_box_pack_start (GTK_BOX (box), d->duration[k], FALSE, FALSE, 0);
    }
  return box;
}

static GtkWidget *
controls_new (NsTrainDialog *d)
{
  GtkWidget           *grid = ns_grid_new ();
  const gchar *const  *labels;
  gint                 row  = 0, k;
  const NsFastSetting *s;

  d->name = gtk_entry_new ();
  gtk_entry_set_width_chars (GTK_ENTRY (d->name), 28);
  ns_labelled (grid, row++, _(setting ("name")->label), d->name, NULL);
  g_signal_connect (d->name, "changed", G_CALLBACK (changed), d);

  d->photos = gtk_file_chooser_button_new (_("Photos to learn on"), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER);
  ns_labelled (grid, row++, _(setting ("photos")->label), d->photos, NULL);
  g_signal_connect (d->photos, "selection-changed", G_CALLBACK (changed), d);
  d->count = ns_label_new ("", FALSE);
  ns_grid_attach (grid, d->count, 1, row++, 2);

  ns_grid_attach (grid, ns_label_new (_("How long"), FALSE), 0, row, 1);
  ns_grid_attach (grid, durations_new (d), 1, row++, 2);

  s = setting ("steps");
  d->steps = ns_spin_new (s->value, s->min, s->max, 100, 0);
  ns_labelled (grid, row++, _(s->label), d->steps, NULL);
  g_signal_connect (d->steps, "value-changed", G_CALLBACK (changed), d);

  s = setting ("size");
  d->size = ns_spin_new (s->value, s->min, s->max, 32, 0);
  ns_labelled (grid, row++, _(s->label), d->size, NULL);
  g_signal_connect (d->size, "value-changed", G_CALLBACK (changed), d);

  ns_restyle_device_choices (&labels);
  d->device = ns_text_combo_new (NULL, NULL);
  for (k = 0; labels[k]; k++)
    gtk_combo_box_text_append_text (GTK_COMBO_BOX_TEXT (d->device), _(labels[k]));
  ns_labelled (grid, row++, _(setting ("device")->label), d->device, NULL);
  g_signal_connect (d->device, "changed", G_CALLBACK (changed), d);
  return grid;
}

NsTrainDialog *
ns_train_dialog_new (GtkWidget     *dialog,
                     GeglBuffer    *painting,
                     GdkPixbuf     *thumbnail,
                     NsTrainParams *params)
{
  NsTrainDialog *d     = g_new0 (NsTrainDialog, 1);
  GtkWidget     *hbox  = ns_box_new (FALSE, 12);
  GtkWidget     *right = ns_box_new (TRUE, 12);

  d->dialog      = dialog;
  d->p           = params;
  d->painting    = g_object_ref (painting);
  d->device_seen = -1;
  gtk_container_set_border_width (GTK_CONTAINER (hbox), 12);
  if (thumbnail)
    gtk_box_pack_start (GTK_BOX (hbox), gtk_image_new_from_pixbuf (thumbnail), FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (right), controls_new (d), FALSE, FALSE, 0);
  d->note = ns_wrapped_label_new ("", NOTE_WIDTH);
  gtk_box_pack_start (GTK_BOX (right), d->note, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (hbox), right, TRUE, TRUE, 0);
  gtk_box_pack_start (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (dialog))), hbox, TRUE, TRUE, 0);
  gtk_widget_show_all (hbox);
  ns_train_dialog_set_params (d, params);
  gtk_widget_grab_focus (d->name);
  ns_check_mnemonics (dialog);
  return d;
}

void
ns_train_dialog_set_params (NsTrainDialog       *d,
                            const NsTrainParams *params)
{
  if (params != d->p)
    *d->p = *params;
  d->showing = TRUE;
  gtk_entry_set_text (GTK_ENTRY (d->name), d->p->name);
  if (d->p->photos[0])
    gtk_file_chooser_set_filename (GTK_FILE_CHOOSER (d->photos), d->p->photos);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (d->size), d->p->size);
  gtk_combo_box_set_active (GTK_COMBO_BOX (d->device), d->p->device);
  d->showing = FALSE;
  show_steps (d);
  count_photos (d);
  tell (d);
}

void
ns_train_dialog_free (NsTrainDialog *d)
{
  g_object_unref (d->painting);
  g_free (d);
}

/* ---- the run's window ---- */

enum { RESPONSE_STOP = 1 };

typedef struct
{
  GtkWidget    *window;
  GtkWidget    *bar;
  GtkWidget    *text;
  GtkWidget    *sample;
  gchar        *sample_path;
  NsTrainJob   *job;
  const gchar  *name;
  NsTrainState  state;
  guint         timer;
} Progress;

static gboolean
poll_run (gpointer data)
{
  Progress        *pr = data;
  NsTrainProgress  now;
  gchar           *text;

  ns_train_poll (pr->job, &now);
  pr->state = now.state;
  text = ns_train_progress_text (&now, pr->name);
  ns_label_set_text (pr->text, text, FALSE);
  g_free (text);
  if (now.state == NS_TRAIN_STARTING)
    gtk_progress_bar_pulse (GTK_PROGRESS_BAR (pr->bar));
  else
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (pr->bar),
                                   CLAMP (now.step / (gdouble) MAX (1, now.steps), 0, 1));
  if (now.sample && g_strcmp0 (now.sample, pr->sample_path))
    {
      GdkPixbuf *pix = gdk_pixbuf_new_from_file_at_size (now.sample, SAMPLE_SIZE, SAMPLE_SIZE, NULL);

      /* a sample being written does not load yet: the next poll's */
      if (pix)
        {
          gtk_image_set_from_pixbuf (GTK_IMAGE (pr->sample), pix);
          g_object_unref (pix);
          g_free (pr->sample_path);
          pr->sample_path = g_strdup (now.sample);
        }
    }
  if (now.state >= NS_TRAIN_DONE)
    {
      gtk_dialog_set_response_sensitive (GTK_DIALOG (pr->window), RESPONSE_STOP, FALSE);
      pr->timer = 0;
    }
  ns_train_progress_clear (&now);
  return pr->state < NS_TRAIN_DONE;
}

NsTrainState
ns_train_progress_run (NsTrainJob  *job,
                       const gchar *name)
{
  Progress   pr   = { 0 };
  GtkWidget *box  = ns_box_new (TRUE, 12);
  gchar     *title;
  gint       response;

  /* TRANSLATORS: the training window's title */
  title = g_strdup_printf (_("Training '%s'"), name);
  pr.job  = job;
  pr.name = name;
  pr.window = gimp_dialog_new (title, PLUG_IN_ROLE "-training", NULL, 0, NULL, NULL,
                               _("_Stop"),  RESPONSE_STOP,
                               _("_Close"), GTK_RESPONSE_CLOSE,
                               NULL);
  g_free (title);
  gtk_container_set_border_width (GTK_CONTAINER (box), 12);
  pr.text   = ns_wrapped_label_new ("", NOTE_WIDTH);
  pr.bar    = gtk_progress_bar_new ();
  pr.sample = gtk_image_new ();
  /* room for the samples from the start: the window does not jump */
  gtk_widget_set_size_request (pr.sample, SAMPLE_SIZE, SAMPLE_SIZE * 3 / 4);
  gtk_box_pack_start (GTK_BOX (box), pr.text, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box), pr.bar, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box), pr.sample, TRUE, TRUE, 0);
  gtk_box_pack_start (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (pr.window))), box, TRUE, TRUE, 0);
  gtk_widget_show_all (box);
  poll_run (&pr);
  if (pr.state < NS_TRAIN_DONE)
    pr.timer = g_timeout_add (POLL_MS, poll_run, &pr);
  while ((response = gimp_dialog_run (GIMP_DIALOG (pr.window))) == RESPONSE_STOP)
    {
      ns_train_stop (job);
      gtk_dialog_set_response_sensitive (GTK_DIALOG (pr.window), RESPONSE_STOP, FALSE);
    }
  if (pr.timer)
    g_source_remove (pr.timer);
  gtk_widget_destroy (pr.window);
  g_free (pr.sample_path);
  return pr.state;
}
