/* preview.c - the dialog's preview: a small restyle in a thread, so that
 * the dialog stays responsive and the photographer can cancel it.
 *
 * The pixels are read from GIMP in the calling (main) thread: libgimp's
 * buffers talk to GIMP over the plug-in's one connection, which is not
 * thread-safe.  The thread only runs the engine on copies.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "restyle-private.h"

struct _NsPreviewJob
{
  struct ns_context *ctx;
  struct ns_params   params;
  NsRestyleParams    settings;  /* a copy: the dialog's change under the thread */
  struct ns_image    content;
  struct ns_image    style;
  struct ns_image    result;
  GThread           *thread;
  gint               cancel;   /* atomic */
  gint               permille; /* atomic: progress */
  gint               done;     /* atomic */
  enum ns_status     status;
  gdouble            seconds;
};

static gint
longest_side (GeglBuffer *buffer)
{
  const GeglRectangle *e = gegl_buffer_get_extent (buffer);

  return MAX (e->width, e->height);
}

static bool
job_progress (const struct ns_progress *p,
              void                     *data)
{
  NsPreviewJob *job = data;

  job->seconds = p->elapsed;
  g_atomic_int_set (&job->permille, p->total > 0 ? 1000 * p->iteration / p->total : 1000);
  return ! g_atomic_int_get (&job->cancel);
}

static gpointer
job_run (gpointer data)
{
  NsPreviewJob *job = data;

  job->status = ns_run (job->ctx, &job->content, &job->style, 1, &job->params,
                        job_progress, job, &job->result);
  g_atomic_int_set (&job->done, 1);
  return NULL;
}

/* A preview is a taste of the settings, not a run at the chosen size: at
 * most PREVIEW_SIDE px square, PREVIEW_ITERATIONS steps, the painting at
 * most PREVIEW_STYLE px, whatever the dialog asks (make bench-preview,
 * docs/plugin.md's "Estimates").  192 px, 50 steps and a 1024 px painting
 * took 58 s on 2 busy cores; 128 px, 30 steps and 512 px still took 8.5 s
 * idle and 15.5 to 16.5 s busy; these take about 4 s. */
#define PREVIEW_SIDE       96
#define PREVIEW_ITERATIONS 20
#define PREVIEW_STYLE      384

NsPreviewJob *
ns_preview_start (struct ns_context     *ctx,
                  GeglBuffer            *content,
                  GeglBuffer            *style,
                  const NsRestyleParams *params,
                  gint                   work_longest,
                  gint                   side,
                  gint                   max_iterations)
{
  NsPreviewJob *job        = g_new0 (NsPreviewJob, 1);
  gdouble       scale      = MIN (1.0, (gdouble) work_longest / longest_side (content));
  /* the painting as the run sizes it, after the whole photo at work size */
  gdouble       style_side = MIN (MIN (NS_PREVIEW_MAX_STYLE, PREVIEW_STYLE),
                                  ns_restyle_engine_params (params).style_scale * work_longest);

  side           = MIN (side, PREVIEW_SIDE);
  max_iterations = MIN (max_iterations, PREVIEW_ITERATIONS);

  job->ctx               = ctx;
  job->settings          = *params;  /* the engine's strings point into it */
  job->params            = ns_restyle_engine_params (&job->settings);
  job->params.size       = 0;  /* the crop is at the work size already */
  job->params.iterations = MIN (job->params.iterations, max_iterations);
  /* the first painting over the whole crop: regions and the other
   * paintings show in the result only */
  job->params.n_style_masks = 0;
  job->params.style_masks   = NULL;
  job->params.style_blend   = NULL;
  job->content           = ns_restyle_read_middle (content, scale, side, side, 4);
  job->style             = ns_restyle_read_middle (style, MIN (1.0, style_side / longest_side (style)), G_MAXINT, G_MAXINT, 4);
  /* the engine sizes the painting after the crop: tell it the photo's size
   * (within the engine's range: only a crop under 128 px could ask more) */
  job->params.style_scale = (gfloat) CLAMP (style_side / MAX (job->content.width, job->content.height),
                                            NS_PARAM_STYLE_SCALE_MIN, NS_PARAM_STYLE_SCALE_MAX);
  job->result            = job->content;
  job->result.data       = g_new (gfloat, (gsize) job->content.width * job->content.height * 4);
  job->thread            = g_thread_new ("neural-style-preview", job_run, job);
  return job;
}

gboolean
ns_preview_poll (NsPreviewJob *job,
                 gdouble      *fraction)
{
  *fraction = g_atomic_int_get (&job->permille) / 1000.0;
  return g_atomic_int_get (&job->done);
}

guchar *
ns_preview_finish (NsPreviewJob  *job,
                   gboolean       cancel,
                   gint          *width,
                   gint          *height,
                   GError       **error)
{
  guchar *rgb = NULL;

  if (cancel)
    g_atomic_int_set (&job->cancel, 1);
  g_thread_join (job->thread);

  if (job->status == NS_STATUS_OK)
    {
      gsize n = (gsize) job->result.width * job->result.height;
      gsize i;

      ns_restyle_record_preview_timing (job->ctx,
                                        ns_estimate_work (job->ctx, &job->params,
                                                          job->content.width, job->content.height,
                                                          job->style.width, job->style.height),
                                        job->seconds);
      rgb = g_new (guchar, n * 3);
      for (i = 0; i < n; i++)
        {
          gint c;

          for (c = 0; c < 3; c++)
            rgb[3 * i + c] = (guchar) (CLAMP (job->result.data[4 * i + c], 0.0f, 1.0f) * 255.0f + 0.5f);
        }
      *width  = job->result.width;
      *height = job->result.height;
    }
  else if (job->status == NS_STATUS_CANCELLED)
    g_set_error_literal (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_CANCELLED,
                         _("The preview was stopped."));
  else
    g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_FAILED,
                 _("The preview failed: %s"), ns_last_error (job->ctx));

  g_free (job->content.data);
  g_free (job->style.data);
  g_free (job->result.data);
  g_free (job);
  return rgb;
}
