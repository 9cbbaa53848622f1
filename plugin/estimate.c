/* estimate.c - what the dialog tells before OK: the size the photo is
 * restyled at, where, how long and how much memory, and what to watch.
 *
 * Times come from the engine's model fitted to the last runs on the same
 * backend (previews included), kept in ~/.cache/neural-style/timings.ini.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "restyle-private.h"

#define MAX_TIMINGS 8

/* ---- timings of earlier runs ---- */

static gchar *
timings_file (void)
{
  return g_build_filename (g_get_user_cache_dir (), "neural-style", "timings.ini", NULL);
}

static const gchar *
backend_key (struct ns_context *ctx)
{
  return ns_context_backend_kind (ctx) == NS_BACKEND_CUDA ? "cuda" : "cpu";
}

/* Previews are kept apart from runs: a preview is mostly fixed costs, and
 * one on a busy machine once turned "about 4 min" into "about 14 min".  Its
 * timing serves only until a run has been timed. */
static gchar *
timings_key (struct ns_context *ctx,
             gboolean           preview)
{
  return g_strconcat (backend_key (ctx), preview ? "-preview" : "", NULL);
}

/* Up to MAX_TIMINGS, newest first: "flops evaluations seconds [slowdown]"
 * each, the seconds divided by the slowdown (what an idle machine takes); the
 * previews' when no run was timed. */
static gint
load_key (struct ns_context *ctx,
          gboolean           preview,
          struct ns_timing  *out);

static gint
load_timings (struct ns_context *ctx,
              struct ns_timing  *out)
{
  gint n = load_key (ctx, FALSE, out);

  return n > 0 ? n : load_key (ctx, TRUE, out);
}

static gint
load_key (struct ns_context *ctx,
          gboolean           preview,
          struct ns_timing  *out)
{
  gchar     *key  = timings_key (ctx, preview);
  GKeyFile  *kf   = g_key_file_new ();
  gchar     *path = timings_file ();
  gchar    **runs = NULL;
  gint       n    = 0;
  gint       i;

  if (g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    runs = g_key_file_get_string_list (kf, "timings", key, NULL, NULL);
  for (i = 0; runs && runs[i] && n < MAX_TIMINGS; i++)
    {
      struct ns_timing t;
      gchar           *end;
      gdouble          slowdown;

      t.work.flops       = g_ascii_strtod (runs[i], &end);
      t.work.evaluations = g_ascii_strtod (end, &end);
      t.seconds          = g_ascii_strtod (end, &end);
      slowdown           = g_ascii_strtod (end, &end);
      if (slowdown >= 1)
        t.seconds /= slowdown;
      if (t.work.flops > 0 && t.work.evaluations > 0 && t.seconds > 0)
        out[n++] = t;
    }

  g_strfreev (runs);
  g_free (key);
  g_free (path);
  g_key_file_free (kf);
  return n;
}

/* The last ns_run on ctx took `seconds` for `work`: kept with how much
 * other processes slowed it, so that a run or preview on a busy machine
 * does not slow the next estimates (load_key divides); the estimate
 * multiplies by how busy the machine is then. */
static void
record (struct ns_context *ctx,
        gboolean           preview,
        struct ns_work     work,
        gdouble            seconds)
{
  struct ns_timing  old[MAX_TIMINGS];
  gint              n    = load_key (ctx, preview, old);
  gchar            *key  = timings_key (ctx, preview);
  GKeyFile         *kf   = g_key_file_new ();
  gchar            *path = timings_file ();
  gchar            *dir  = g_path_get_dirname (path);
  const gchar      *runs[MAX_TIMINGS + 1];
  gchar            *text[MAX_TIMINGS];
  gint              i;

  if (! (seconds > 0.2 && work.flops > 0))
    goto out;
  /* the seconds as measured and how much other work slowed them */
  text[0] = g_strdup_printf ("%.6g %.6g %.6g %.3g", work.flops, work.evaluations, seconds,
                             ns_context_last_slowdown (ctx));
  for (i = 0; i < n && i + 1 < MAX_TIMINGS; i++)
    text[i + 1] = g_strdup_printf ("%.6g %.6g %.6g", old[i].work.flops,
                                   old[i].work.evaluations, old[i].seconds);
  n = i + 1;
  for (i = 0; i < n; i++)
    runs[i] = text[i];
  runs[n] = NULL;

  g_key_file_load_from_file (kf, path, G_KEY_FILE_KEEP_COMMENTS, NULL);
  g_key_file_set_string_list (kf, "timings", key, runs, n);
  for (i = 0; i < n; i++)
    g_free (text[i]);
  /* whole or not at all; a timing not kept only makes the next estimate
   * less sure, so a failure is no message in the photographer's face */
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_debug ("timings not kept: cannot make '%s': %s", dir, g_strerror (errno));
    }
  else
    {
      gsize  len;
      gchar *data = g_key_file_to_data (kf, &len, NULL);
      gchar  err[512];

      if (ns_write_file (path, data, len, err, sizeof err) != NS_STATUS_OK)
        g_debug ("timings not kept: %s", err);
      g_free (data);
    }

out:
  g_free (key);
  g_free (dir);
  g_free (path);
  g_key_file_free (kf);
}

void
ns_restyle_record_timing (struct ns_context *ctx,
                          struct ns_work     work,
                          gdouble            seconds)
{
  record (ctx, FALSE, work, seconds);
}

void
ns_restyle_record_preview_timing (struct ns_context *ctx,
                                  struct ns_work     work,
                                  gdouble            seconds)
{
  record (ctx, TRUE, work, seconds);
}

void
ns_restyle_format_duration (gdouble  seconds,
                            gchar   *buf,
                            gsize    len)
{
  glong s = (glong) (seconds + 0.5);

  if (seconds < 0)
    g_strlcpy (buf, "--", len);
  else if (s < 60)
    /* TRANSLATORS: a duration */
    g_snprintf (buf, len, _("about %ld s"), MAX (s, 1));
  else if (s < 3600)
    /* TRANSLATORS: a duration, minutes */
    g_snprintf (buf, len, _("about %ld min"), (s + 30) / 60);
  else
    /* TRANSLATORS: a duration, hours and minutes */
    g_snprintf (buf, len, _("about %ld h %02ld min"), s / 3600, (s / 60) % 60);
}

static void
format_bytes (gdouble  bytes,
              gchar   *buf,
              gsize    len)
{
  if (bytes < 1e9)
    /* TRANSLATORS: an amount of memory */
    g_snprintf (buf, len, _("%.0f MB"), MAX (bytes / 1e6, 1.0));
  else
    /* TRANSLATORS: an amount of memory */
    g_snprintf (buf, len, _("%.1f GB"), bytes / 1e9);
}

/* ---- size, device, estimate ---- */

gint
ns_restyle_work_size (struct ns_context     *ctx,
                      const NsRestyleParams *p,
                      gint                   w,
                      gint                   h,
                      gint                   style_w,
                      gint                   style_h,
                      gboolean              *capped)
{
  struct ns_params    e = ns_restyle_engine_params (p);
  struct ns_plan_info plan;

  if (capped)
    *capped = FALSE;
  if (e.size != 0 || ! ctx)
    return e.size;
  /* the layer's own size, or the largest that fits (when nothing fits,
   * the own size: the run says so) */
  ns_plan (ctx, &e, w, h, style_w, style_h, NS_PLAN_FIT_SIZE, &plan);
  if (capped)
    *capped = plan.capped;
  return plan.size;
}

gchar *
ns_restyle_device_text (struct ns_context  *ctx,
                        gint                device,
                        gchar             **why_not_gpu)
{
  struct ns_backend_info info;
  const gchar           *why = NULL;

  ns_context_backend_info (ctx, &info);
  if (why_not_gpu)
    {
      switch (info.gpu)
        {
        case NS_GPU_NOT_INSTALLED:
          why = _("Neural Style's GPU module is not installed (it is built "
                  "where the CUDA toolkit and cuDNN are).");
          break;
        case NS_GPU_ABSENT:
          why = _("No NVIDIA GPU with a working driver was found.");
          break;
        case NS_GPU_FAILED:
          why = _("The GPU could not be used.");
          break;
        case NS_GPU_OUT_OF_MEMORY:
          why = _("The GPU does not have enough memory.");
          break;
        default:
          break;
        }
      *why_not_gpu = why && device != NS_BACKEND_CPU ? g_strdup (why) : NULL;
    }

  if (info.kind == NS_BACKEND_CUDA)
    /* TRANSLATORS: where the run computes; %s is the GPU's name */
    return g_strdup_printf (_("the GPU (%s)"), info.device);
  /* TRANSLATORS: where the run computes */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "the CPU (%d thread)", "the CPU (%d threads)",
                                       info.threads),
                          info.threads);
}

static void
append_warning (GString     *text,
                const gchar *warning)
{
  gchar *escaped = g_markup_escape_text (warning, -1);

  g_string_append_printf (text, "\n<i>%s</i>", escaped);
  g_free (escaped);
}

/* A sentence when the plan computes the largest sizes in tiles or piece by
 * piece to fit in memory. */
static void
append_memory_plan (GString                   *text,
                    const struct ns_plan_info *plan)
{
  gboolean tiled  = FALSE;
  gboolean pieces = FALSE;
  gchar   *escaped;

  for (gint i = 0; i < plan->n_levels; i++)
    {
      tiled  = tiled || plan->levels[i].tile > 0;
      pieces = pieces || plan->levels[i].block > 0;
    }
  if (! tiled && ! pieces)
    return;
  escaped = g_markup_escape_text (pieces ? _("The largest sizes are refined piece by piece to fit "
                                             "in memory, which takes longer.")
                                         : _("The largest sizes are computed in tiles to fit in "
                                             "memory."), -1);
  g_string_append_printf (text, " %s", escaped);
  g_free (escaped);
}

gchar *
ns_restyle_estimate (struct ns_context     *ctx,
                     const NsRestyleParams *p,
                     gint                   cw,
                     gint                   ch,
                     gint                   sw,
                     gint                   sh,
                     gboolean              *blocked)
{
  struct ns_timing    past[MAX_TIMINGS];
  struct ns_params    e;
  struct ns_plan_info plan;
  GString            *text;
  gchar            *on;
  gchar            *why = NULL;
  gchar            *line;
  gchar             when[64];
  gchar             memory[32];
  gint              ow, oh;

  *blocked = FALSE;
  if (! ctx)
    {
      *blocked = TRUE;
      return g_markup_escape_text (_("The VGG-19 weights are not installed: run "
                                     "./install.sh in the neural-style source "
                                     "folder, then open Neural Style again."), -1);
    }

  /* one plan for everything below: size, memory, levels, work */
  e = ns_restyle_engine_params (p);
  ns_plan (ctx, &e, cw, ch, sw, sh, NS_PLAN_FIT_SIZE, &plan);
  ow = plan.width;
  oh = plan.height;
  /* the timings are an idle machine's: as busy as the machine is now */
  ns_restyle_format_duration (ns_plan_seconds (ctx, &plan, past, load_timings (ctx, past))
                              * ns_context_slowdown (ctx),
                              when, sizeof when);
  on   = ns_restyle_device_text (ctx, p->device, &why);
  text = g_string_new (NULL);

  format_bytes (plan.bytes, memory, sizeof memory);
  /* TRANSLATORS: "Restyles at 512 × 341 px: about 4 min and 0.6 GB of memory
     on the CPU (2 threads)."  The <b> tags are markup. */
  line = g_markup_printf_escaped (_("Restyles at <b>%d × %d</b> px: <b>%s</b> and "
                                    "%s of memory on %s."),
                                  ow, oh, when, memory, on);
  g_string_append (text, line);
  g_free (line);
  append_memory_plan (text, &plan);

  if (p->device == NS_BACKEND_CUDA && ns_context_backend_kind (ctx) != NS_BACKEND_CUDA)
    {
      gchar *msg = g_strdup_printf (_("The GPU cannot be used: %s Choose Automatic or CPU "
                                      "under Advanced."), why ? why : "");

      append_warning (text, msg);
      g_free (msg);
      *blocked = TRUE;
    }
  else if (why && p->device == NS_BACKEND_AUTO)
    {
      append_warning (text, why);
    }

  if (plan.capped)
    append_warning (text, _("The layer's full size needs more memory than this machine has "
                            "free; Final restyles at the largest size that fits."));
  if (MAX (cw, ch) >= 2 * MAX (ow, oh))
    {
      gchar *msg = g_strdup_printf (_("The result is enlarged %.1f× to the layer's %d × %d px "
                                      "and will look soft: choose Final for full detail."),
                                    (gdouble) MAX (cw, ch) / MAX (ow, oh), cw, ch);

      append_warning (text, msg);
      g_free (msg);
    }

  g_free (why);
  g_free (on);
  return g_string_free (text, FALSE);
}
