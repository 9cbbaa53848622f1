/* host-train.c - Train Neural Style's run, written once for both GIMPs
 * (host.h): the painting layer checked and read, the trainer started,
 * then its window or, for scripts, a wait with GIMP's progress bar.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "host.h"
#include "train-dialog.h"

#define WAIT_US 500000

void
ns_host_train_fill (const NsHostOps *ops,
                    gint             painting,
                    NsTrainParams   *p)
{
  /* the last run's name while it can go on; else the painting's */
  if (! p->name[0] || ! (ns_train_resumable (p) || ns_train_running (p)))
    {
      gchar *name = ops->name (painting);

      ns_train_name_from (p, name);
      g_free (name);
    }
  if (! p->photos[0])
    {
      NsTrainParams d = ns_train_defaults ();

      g_strlcpy (p->photos, d.photos, sizeof p->photos);
    }
}

/* Until the run ends: GIMP's progress bar, the trainer's words. */
static gboolean
wait_for (NsTrainJob   *job,
          const gchar  *name,
          GError      **error)
{
  NsTrainProgress now;
  NsTrainState    state;
  gchar          *text;

  gimp_progress_init (_("Training a fast style..."));
  for (;;)
    {
      ns_train_poll (job, &now);
      if (now.state >= NS_TRAIN_DONE)
        break;
      text = ns_train_progress_text (&now, name);
      gimp_progress_set_text (text);
      gimp_progress_update (now.step / (gdouble) MAX (1, now.steps));
      g_free (text);
      ns_train_progress_clear (&now);
      g_usleep (WAIT_US);
    }
  state = now.state;
  if (state != NS_TRAIN_DONE)
    {
      text = ns_train_progress_text (&now, name);
      g_set_error_literal (error, NS_RESTYLE_ERROR,
                           state == NS_TRAIN_STOPPED ? NS_RESTYLE_ERROR_CANCELLED : NS_RESTYLE_ERROR_FAILED, text);
      g_free (text);
    }
  else
    {
      gimp_progress_update (1.0);
    }
  ns_train_progress_clear (&now);
  return state == NS_TRAIN_DONE;
}

gboolean
ns_host_train (const NsHostOps     *ops,
               gint                 painting,
               const NsTrainParams *p,
               gboolean             interactive,
               GError             **error)
{
  NsItemInfo  info = { NS_ITEM_NONE, -1, -1, 0, 0, 0, 0, FALSE, FALSE, FALSE, -1 };
  GeglBuffer *pixels;
  NsTrainJob *job;
  gboolean    ok = TRUE;

  if (painting != -1)
    ops->item (painting, &info);
  if (info.kind != NS_ITEM_LAYER || info.group)
    {
      g_set_error_literal (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                           _("Train Neural Style learns the painting of a layer: select the painting's layer "
                             "(for example, the one File > Open as Layers... added) and try again."));
      return FALSE;
    }
  pixels = ops->buffer (painting);
  job    = ns_train_start (p, pixels, error);
  g_object_unref (pixels);
  if (! job)
    return FALSE;
  if (interactive)
    ns_train_progress_run (job, p->name);
  else
    ok = wait_for (job, p->name, error);
  ns_train_job_free (job);
  return ok;
}
