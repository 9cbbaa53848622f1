/* train.h - Train Neural Style: a fast style learnt from a painting layer
 * on a folder of the photographer's photos, shared by the GIMP 2.10 and
 * 3.0 plug-ins above the GIMP API.
 *
 * Training takes minutes on a GPU and hours on a CPU: longer than a
 * procedure call should hold GIMP.  So the plug-in writes the painting
 * beside the styles and starts the command line's `neural-style train` as
 * a process of its own (its own session: it outlives the dialog and GIMP),
 * then follows its step log.  Stop sends SIGINT, which makes the trainer
 * write its checkpoint; the next training under the same name resumes it.
 * The model lands in the styles folder, where Neural Style (Fast)...
 * finds it.
 */
#ifndef __NS_TRAIN_H__
#define __NS_TRAIN_H__

#include <gegl.h>

#include "fast.h"

G_BEGIN_DECLS

#define NS_TRAIN_PROC "plug-in-neural-style-train"

typedef struct
{
  gchar   name[NS_RESTYLE_TEXT_LEN];    /* the new style's name: its file in the styles folder */
  gchar   photos[NS_RESTYLE_TEXT_LEN];  /* the folder of photos */
  gdouble steps;
  gdouble size;                         /* the crops' side, px */
  gint    device;                       /* enum ns_backend_kind */
} NsTrainParams;

/* Quick, Good and Best: steps the dialog offers by name */
typedef enum
{
  NS_TRAIN_QUICK,
  NS_TRAIN_GOOD,
  NS_TRAIN_BEST,
  NS_TRAIN_DURATIONS
} NsTrainDuration;

gint                  ns_train_duration_steps (NsTrainDuration d);
/* "Quick", "Good", "Best" (translated, with the mnemonic) */
const gchar         * ns_train_duration_label (NsTrainDuration d);

/* The rows, in the order scripts pass them (fast.h's row type). */
const NsFastSetting * ns_train_settings   (gint                 *n);
/* The defaults; photos: the user's Pictures folder where there is one. */
NsTrainParams         ns_train_defaults   (void);
/* A style name from a layer's: its file name's extension dropped, what a
 * file name cannot hold turned into '-'. */
void                  ns_train_name_from  (NsTrainParams        *p,
                                           const gchar          *layer_name);
/* The numbers in range, a usable name that no finished style has, a
 * folder that exists; else a translated error. */
gboolean              ns_train_check      (const NsTrainParams  *p,
                                           GError              **error);
/* Whether training under p's name stopped with a checkpoint to resume. */
gboolean              ns_train_resumable  (const NsTrainParams  *p);
/* Whether a training under p's name is going now (its window closed). */
gboolean              ns_train_running    (const NsTrainParams  *p);

/* Seconds one step takes at p's size and device on this machine: the last
 * training's, else measured now (two steps at 64 px on the painting,
 * scaled by the FLOPs), remembered.  -1 when it cannot be known (the
 * weights are missing). */
gdouble               ns_train_step_seconds (const NsTrainParams *p,
                                             GeglBuffer          *painting);

/* ---- a training run ---- */

typedef enum
{
  NS_TRAIN_STARTING,   /* the trainer reads the photos */
  NS_TRAIN_RUNNING,
  NS_TRAIN_DONE,       /* the model is in the styles folder */
  NS_TRAIN_STOPPED,    /* stopped with a checkpoint */
  NS_TRAIN_FAILED      /* message says why */
} NsTrainState;

typedef struct
{
  NsTrainState state;
  gint         step;       /* steps done, an earlier run's included */
  gint         steps;      /* asked for */
  gdouble      per_step;   /* seconds, 0 = not known yet */
  gdouble      loss;       /* the last step's, 0 = none yet */
  gchar       *message;    /* the trainer's last line (new string), or NULL */
  gchar       *sample;     /* the newest sample photo's path (new string), or NULL */
} NsTrainProgress;

typedef struct _NsTrainJob NsTrainJob;

/* Starts training p on the painting (a checkpoint under p's name is
 * resumed), or joins the run under p's name that is still going.  NULL
 * and a translated error when it cannot start. */
NsTrainJob          * ns_train_start      (const NsTrainParams  *p,
                                           GeglBuffer           *painting,
                                           GError              **error);
/* Where the run stands now (free with ns_train_progress_clear). */
void                  ns_train_poll       (NsTrainJob           *job,
                                           NsTrainProgress      *out);
void                  ns_train_progress_clear (NsTrainProgress  *progress);
/* Asks the trainer to stop: it writes its checkpoint and ends. */
void                  ns_train_stop       (NsTrainJob           *job);
/* Remembers the run's speed for the next estimates, and frees job; the
 * process goes on where it still runs. */
void                  ns_train_job_free   (NsTrainJob           *job);

/* "step 120 of 400, about 12 min left" and the like (new string). */
gchar               * ns_train_progress_text (const NsTrainProgress *progress,
                                              const gchar           *name);

G_END_DECLS

#endif /* __NS_TRAIN_H__ */
