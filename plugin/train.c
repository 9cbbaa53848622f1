/* train.c - Train Neural Style above the GIMP API: the settings' table,
 * the estimate, and the training run as a process of its own.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "train.h"
#include "restyle-private.h"

/* the measurement's crops: 128 px, one a step (a 16th of 256 px x 4) */
#define MEASURE_SIZE 128

/* ---- the settings ---- */

static const NsFastSetting settings[] =
{
  { "name", NS_FAST_TEXT, G_STRUCT_OFFSET (NsTrainParams, name), 0, 0, 0, 0,
    N_("Style _name"),
    N_("The new style's name: Neural Style (Fast) lists it by this name") },
  { "photos", NS_FAST_TEXT, G_STRUCT_OFFSET (NsTrainParams, photos), 0, 0, 0, 0,
    N_("_Photos"),
    N_("A folder of your photos to learn on, any sizes and formats: a few dozen or more of the kind "
       "you will restyle") },
  { "steps", NS_FAST_NUMBER, G_STRUCT_OFFSET (NsTrainParams, steps), 1, 100000, 2000, 0,
    N_("S_teps"),
    N_("Training steps of 4 photo crops each: 400 make a quick style, 2000 a good one, 8000 the best") },
  { "size", NS_FAST_NUMBER, G_STRUCT_OFFSET (NsTrainParams, size), 32, 1024, 256, 0,
    N_("Crop si_ze"),
    N_("The side of the photo crops it learns on, in pixels: the style's strokes are sized for it; "
       "time and memory grow with its square") },
  { "device", NS_FAST_DEVICE, G_STRUCT_OFFSET (NsTrainParams, device), 0, 2, NS_BACKEND_AUTO, 0,
    N_("Compute on"),
    N_("Where to compute: automatic (the GPU if one is usable), the CPU or the GPU") },
};

const NsFastSetting *
ns_train_settings (gint *n)
{
  *n = G_N_ELEMENTS (settings);
  return settings;
}

gint
ns_train_duration_steps (NsTrainDuration d)
{
  static const gint steps[NS_TRAIN_DURATIONS] = { 400, 2000, 8000 };

  return steps[CLAMP (d, 0, NS_TRAIN_DURATIONS - 1)];
}

const gchar *
ns_train_duration_label (NsTrainDuration d)
{
  switch (d)
    {
    /* TRANSLATORS: how long to train: a quick style */
    case NS_TRAIN_QUICK: return _("_Quick");
    /* TRANSLATORS: how long to train: a good style */
    case NS_TRAIN_GOOD:  return _("_Good");
    /* TRANSLATORS: how long to train: the best style */
    default:             return _("_Best");
    }
}

NsTrainParams
ns_train_defaults (void)
{
  NsTrainParams  p;
  const gchar   *pictures = g_get_user_special_dir (G_USER_DIRECTORY_PICTURES);
  gchar         *home     = g_build_filename (g_get_home_dir (), "Pictures", NULL);

  memset (&p, 0, sizeof p);
  ns_rows_defaults (settings, G_N_ELEMENTS (settings), &p);
  if (pictures && g_file_test (pictures, G_FILE_TEST_IS_DIR))
    g_strlcpy (p.photos, pictures, sizeof p.photos);
  else if (g_file_test (home, G_FILE_TEST_IS_DIR))
    g_strlcpy (p.photos, home, sizeof p.photos);
  g_free (home);
  return p;
}

void
ns_train_name_from (NsTrainParams *p,
                    const gchar   *layer_name)
{
  gchar *name = g_strdup (layer_name ? layer_name : "");
  gchar *dot  = strrchr (name, '.');
  gchar *c;

  /* "autumn-oak.jpg" as Open as Layers names it */
  if (dot && dot != name && strlen (dot) <= 5)
    *dot = '\0';
  for (c = name; *c; c++)
    if (*c == '/' || *c == '\\' || g_ascii_iscntrl (*c) || (c == name && *c == '.'))
      *c = '-';
  g_strlcpy (p->name, *name ? name : "my-style", sizeof p->name);
  g_free (name);
}

/* The user's styles folder (new string). */
static gchar *
styles_dir (void)
{
  gchar *dirs[3];
  gint   n = ns_style_dirs (dirs, 3), i;
  gchar *dir;

  dir = g_strdup (n > 0 ? dirs[0] : ".");
  for (i = 0; i < n; i++)
    free (dirs[i]);
  return dir;
}

static gchar *
model_path (const gchar *name)
{
  gchar *dir  = styles_dir ();
  gchar *file = g_strconcat (name, ".safetensors", NULL);
  gchar *path = g_build_filename (dir, file, NULL);

  g_free (file);
  g_free (dir);
  return path;
}

gboolean
ns_train_resumable (const NsTrainParams *p)
{
  gchar   *model = model_path (p->name);
  gchar   *ckpt  = g_strconcat (model, ".checkpoint", NULL);
  gboolean yes   = g_file_test (ckpt, G_FILE_TEST_EXISTS);

  g_free (ckpt);
  g_free (model);
  return yes;
}

gboolean
ns_train_check (const NsTrainParams *p,
                GError             **error)
{
  gchar   *model;
  gboolean taken;

  if (! ns_rows_check (settings, G_N_ELEMENTS (settings), p, error))
    return FALSE;
  if (! p->name[0] || p->name[0] == '.' || strchr (p->name, '/'))
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("Give the new style a name (without '/', not starting with '.')."));
      return FALSE;
    }
  if (! p->photos[0] || ! g_file_test (p->photos, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("Choose the folder of photos to learn on ('%s' is not a folder)."), p->photos);
      return FALSE;
    }
  model = model_path (p->name);
  taken = g_file_test (model, G_FILE_TEST_EXISTS) && ! ns_train_resumable (p);
  if (taken)
    g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                 _("A style named '%s' is installed already (%s): choose another name."), p->name, model);
  g_free (model);
  return ! taken;
}

/* ---- the estimate ---- */

static gchar *
timings_file (void)
{
  return g_build_filename (g_get_user_cache_dir (), "neural-style", "timings.ini", NULL);
}

static gchar *
timing_key (gint device)
{
  return g_strconcat ("train-", ns_restyle_device_choices (NULL)[CLAMP (device, 0, 2)], NULL);
}

/* seconds a step of `batch` crops of `size` px took, 0 = none kept */
static gdouble
load_timing (gint     device,
             gdouble *size,
             gdouble *batch)
{
  GKeyFile *kf      = g_key_file_new ();
  gchar    *path    = timings_file ();
  gchar    *key     = timing_key (device);
  gchar    *text    = NULL;
  gdouble   seconds = 0;

  if (g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    text = g_key_file_get_string (kf, "timings", key, NULL);
  if (text)
    {
      gchar *end;

      *size   = g_ascii_strtod (text, &end);
      *batch  = g_ascii_strtod (end, &end);
      seconds = g_ascii_strtod (end, &end);
      if (! (*size > 0 && *batch > 0 && seconds > 0))
        seconds = 0;
    }
  g_free (text);
  g_free (key);
  g_free (path);
  g_key_file_free (kf);
  return seconds;
}

/* kept whole or not at all; a timing lost only costs a measurement */
static void
save_timing (gint    device,
             gdouble size,
             gdouble batch,
             gdouble seconds)
{
  GKeyFile *kf   = g_key_file_new ();
  gchar    *path = timings_file ();
  gchar    *dir  = g_path_get_dirname (path);
  gchar    *key  = timing_key (device);
  gchar    *text = g_strdup_printf ("%g %g %.6g", size, batch, seconds);
  gchar    *data;
  gsize     len;
  gchar     err[512];

  g_key_file_load_from_file (kf, path, G_KEY_FILE_KEEP_COMMENTS, NULL);
  g_key_file_set_string (kf, "timings", key, text);
  data = g_key_file_to_data (kf, &len, NULL);
  if (g_mkdir_with_parents (dir, 0700) != 0 || ns_write_file (path, data, len, err, sizeof err) != NS_STATUS_OK)
    g_debug ("training timing not kept in %s", path);
  g_free (data);
  g_free (text);
  g_free (key);
  g_free (dir);
  g_free (path);
  g_key_file_free (kf);
}

/* Two steps at MEASURE_SIZE on crops of the painting itself: the second's
 * seconds, -1 when the trainer cannot start. */
static gdouble
measure_step (gint        device,
              GeglBuffer *painting)
{
  struct ns_context     *ctx = NULL;
  struct ns_trainer     *tr  = NULL;
  struct ns_train_params q   = ns_train_params_default ();
  struct ns_image        art = ns_restyle_read_painting (painting);
  const GeglRectangle   *e   = gegl_buffer_get_extent (painting);
  struct ns_image        crop;
  gdouble                seconds = -1;
  gint64                 t0;

  q.size  = MEASURE_SIZE;
  q.batch = 1;
  crop    = ns_restyle_read_middle (painting, (MEASURE_SIZE + 1) / (gdouble) MAX (1, MIN (e->width, e->height)),
                                    MEASURE_SIZE, MEASURE_SIZE, 3);
  if (art.data && crop.data && crop.width == MEASURE_SIZE && crop.height == MEASURE_SIZE &&
      ns_context_new (NULL, device, &ctx) == NS_STATUS_OK &&
      ns_trainer_new (ctx, &art, &q, NULL, &tr) == NS_STATUS_OK &&
      ns_trainer_step (tr, &crop, 1, NULL) == NS_STATUS_OK)
    {
      t0 = g_get_monotonic_time ();
      if (ns_trainer_step (tr, &crop, 1, NULL) == NS_STATUS_OK)
        seconds = (g_get_monotonic_time () - t0) / 1e6;
    }
  ns_trainer_free (tr);
  ns_context_free (ctx);
  g_free (art.data);
  g_free (crop.data);
  return seconds;
}

gdouble
ns_train_step_seconds (const NsTrainParams *p,
                       GeglBuffer          *painting)
{
  struct ns_train_params d = ns_train_params_default ();
  gdouble                size = 0, batch = 0;
  gdouble                seconds = load_timing (p->device, &size, &batch);

  if (seconds <= 0 && painting)
    {
      size    = MEASURE_SIZE;
      batch   = 1;
      seconds = measure_step (p->device, painting);
      if (seconds > 0)
        save_timing (p->device, size, batch, seconds);
    }
  if (seconds <= 0)
    return -1;
  /* the work grows with the crops' pixels and their number */
  return seconds * (p->size / size) * (p->size / size) * (d.batch / batch);
}

/* ---- a training run ---- */

struct _NsTrainJob
{
  gchar   *name;
  gchar   *dir;        /* styles/training/NAME: the painting, the logs, the samples */
  gchar   *log;        /* a line a step (--log-steps) */
  gchar   *messages;   /* what the trainer says */
  gchar   *samples;
  gchar   *photos;
  gint     steps;
  gint     size;
  gint     device;
  GPid     pid;
};

static void
job_free (NsTrainJob *job)
{
  g_free (job->name);
  g_free (job->dir);
  g_free (job->log);
  g_free (job->messages);
  g_free (job->samples);
  g_free (job->photos);
  g_free (job);
}

static NsTrainJob *
job_new (const NsTrainParams *p)
{
  NsTrainJob *job    = g_new0 (NsTrainJob, 1);
  gchar      *styles = styles_dir ();

  job->name     = g_strdup (p->name);
  job->dir      = g_build_filename (styles, "training", p->name, NULL);
  job->log      = g_build_filename (job->dir, "steps.log", NULL);
  job->messages = g_build_filename (job->dir, "messages.txt", NULL);
  job->samples  = g_build_filename (job->dir, "samples", NULL);
  job->photos   = g_strdup (p->photos);
  job->steps    = (gint) p->steps;
  job->size     = MAX (32, ((gint) p->size + 2) / 4 * 4);  /* the network halves it twice */
  job->device   = p->device;
  job->pid      = -1;
  g_free (styles);
  return job;
}

/* The trainer's process, not another that took its number. */
static gboolean
alive (GPid         pid,
       const gchar *name)
{
  gchar   *file = g_strdup_printf ("/proc/%d/cmdline", (gint) pid);
  gchar   *cmd  = NULL;
  gsize    len  = 0;
  gboolean yes  = FALSE;

  if (pid > 0 && kill (pid, 0) == 0 && g_file_get_contents (file, &cmd, &len, NULL))
    {
      gsize i;

      for (i = 0; i + 1 < len; i++)
        if (! cmd[i])
          cmd[i] = ' ';
      yes = strstr (cmd, " train ") && strstr (cmd, name);
    }
  g_free (cmd);
  g_free (file);
  return yes;
}

static GPid read_pid (NsTrainJob *job);

gboolean
ns_train_running (const NsTrainParams *p)
{
  NsTrainJob *job = job_new (p);
  gboolean    yes = alive (read_pid (job), job->name);

  job_free (job);
  return yes;
}

static GPid
read_pid (NsTrainJob *job)
{
  gchar *file = g_build_filename (job->dir, "pid", NULL);
  gchar *text = NULL;
  GPid   pid  = -1;

  if (g_file_get_contents (file, &text, NULL, NULL))
    pid = (GPid) atoi (text);
  g_free (text);
  g_free (file);
  return pid;
}

/* The painting as an 8-bit PNG, its transparent border cut, written whole. */
static gboolean
write_painting (GeglBuffer  *painting,
                const gchar *path,
                GError     **error)
{
  struct ns_image art     = ns_restyle_read_painting (painting);
  gchar          *partial = g_strconcat (path, ".partial", NULL);
  GeglBuffer     *buf;
  GeglNode       *graph, *src, *save;
  gboolean        ok;

  if (! art.data)
    {
      g_free (partial);
      g_set_error_literal (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_MEMORY,
                           _("Not enough memory to read the painting."));
      return FALSE;
    }
  buf = gegl_buffer_new (GEGL_RECTANGLE (0, 0, art.width, art.height), babl_format ("R'G'B'A float"));
  gegl_buffer_set (buf, NULL, 0, babl_format ("R'G'B'A float"), art.data, art.stride * sizeof (gfloat));
  graph = gegl_node_new ();
  src   = gegl_node_new_child (graph, "operation", "gegl:buffer-source", "buffer", buf, NULL);
  save  = gegl_node_new_child (graph, "operation", "gegl:png-save", "path", partial, "bitdepth", 8, NULL);
  gegl_node_link (src, save);
  g_unlink (partial);
  gegl_node_process (save);
  g_object_unref (graph);
  g_object_unref (buf);
  g_free (art.data);
  ok = g_file_test (partial, G_FILE_TEST_EXISTS) && g_rename (partial, path) == 0;
  if (! ok)
    g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_FAILED,
                 _("Could not write the painting to %s: %s"), path, g_strerror (errno));
  g_free (partial);
  return ok;
}

/* The command line beside the plug-in (install-plugin.sh), else on PATH. */
static gchar *
trainer_program (void)
{
  gchar *dir  = ns_restyle_plugin_dir ();
  gchar *path = g_build_filename (dir, "bin", "neural-style", NULL);

  g_free (dir);
  if (g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
    return path;
  g_free (path);
  return g_find_program_in_path ("neural-style");
}

/* In the trainer's process before it runs: a session of its own, so that
 * closing GIMP does not end it, and what it says into messages.txt. */
static void
child_setup (gpointer data)
{
  gint fd = open (data, O_WRONLY | O_CREAT | O_APPEND, 0644);

  setsid ();
  if (fd >= 0)
    {
      dup2 (fd, 1);
      dup2 (fd, 2);
      close (fd);
    }
}

static gboolean
spawn (NsTrainJob   *job,
       const gchar  *painting,
       gboolean      resume,
       GError      **error)
{
  gchar     *program = trainer_program ();
  gchar     *output  = model_path (job->name);
  gchar     *plugdir = ns_restyle_plugin_dir ();
  gchar     *cuda    = g_build_filename (plugdir, "libns-cuda.so", NULL);
  gchar    **env     = g_get_environ ();
  GPtrArray *argv    = g_ptr_array_new_with_free_func (g_free);
  gchar     *pidfile = g_build_filename (job->dir, "pid", NULL);
  gchar     *pidtext;
  gboolean   ok;

  if (! program)
    {
      g_set_error_literal (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_FAILED,
                           _("Training needs the neural-style command line, which is not installed beside "
                             "the plug-in: run ./install.sh in the neural-style folder again."));
      ok = FALSE;
      goto out;
    }
  if (g_file_test (cuda, G_FILE_TEST_EXISTS))
    env = g_environ_setenv (env, "NS_CUDA_LIBRARY", cuda, FALSE);
  g_ptr_array_add (argv, g_strdup (program));
  g_ptr_array_add (argv, g_strdup ("train"));
  g_ptr_array_add (argv, g_strdup ("--style"));
  g_ptr_array_add (argv, g_strdup (painting));
  g_ptr_array_add (argv, g_strdup ("--photos"));
  g_ptr_array_add (argv, g_strdup (job->photos));
  g_ptr_array_add (argv, g_strdup ("--output"));
  g_ptr_array_add (argv, g_strdup (output));
  g_ptr_array_add (argv, g_strdup ("--name"));
  g_ptr_array_add (argv, g_strdup (job->name));
  g_ptr_array_add (argv, g_strdup_printf ("--steps=%d", job->steps));
  g_ptr_array_add (argv, g_strdup_printf ("--size=%d", job->size));
  g_ptr_array_add (argv, g_strdup_printf ("--device=%s",
                                          job->device == NS_BACKEND_CPU ? "cpu" :
                                          job->device == NS_BACKEND_AUTO ? "auto" : "cuda"));
  g_ptr_array_add (argv, g_strdup_printf ("--sample-every=%d", CLAMP (job->steps / 10, 1, 500)));
  g_ptr_array_add (argv, g_strdup ("--samples"));
  g_ptr_array_add (argv, g_strdup (job->samples));
  g_ptr_array_add (argv, g_strdup ("--log-steps"));
  g_ptr_array_add (argv, g_strdup (job->log));
  if (resume)
    g_ptr_array_add (argv, g_strdup ("--resume"));
  g_ptr_array_add (argv, NULL);
  ok = g_spawn_async (job->dir, (gchar **) argv->pdata, env, G_SPAWN_DEFAULT, child_setup, job->messages,
                      &job->pid, error);
  if (ok)
    {
      pidtext = g_strdup_printf ("%d\n", (gint) job->pid);
      g_file_set_contents (pidfile, pidtext, -1, NULL);
      g_free (pidtext);
    }

out:
  g_ptr_array_free (argv, TRUE);
  g_strfreev (env);
  g_free (pidfile);
  g_free (cuda);
  g_free (plugdir);
  g_free (output);
  g_free (program);
  return ok;
}

NsTrainJob *
ns_train_start (const NsTrainParams *p,
                GeglBuffer          *painting,
                GError             **error)
{
  NsTrainJob *job = job_new (p);
  gchar      *png;
  gboolean    resume, ok;

  job->pid = read_pid (job);
  if (alive (job->pid, job->name))
    return job;  /* still going: follow it */
  if (! ns_train_check (p, error))
    {
      job_free (job);
      return NULL;
    }
  resume = ns_train_resumable (p);
  if (g_mkdir_with_parents (job->samples, 0755) != 0)
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_FAILED, _("Could not make the folder %s: %s"),
                   job->samples, g_strerror (errno));
      job_free (job);
      return NULL;
    }
  /* this run's lines only: the step is the checkpoint's plus theirs */
  g_file_set_contents (job->log, "", 0, NULL);
  g_file_set_contents (job->messages, "", 0, NULL);
  png = g_build_filename (job->dir, "painting.png", NULL);
  /* a resumed run learns the painting it started with */
  ok = (resume && g_file_test (png, G_FILE_TEST_EXISTS)) || write_painting (painting, png, error);
  if (ok)
    ok = spawn (job, png, resume, error);
  g_free (png);
  if (! ok)
    {
      job_free (job);
      return NULL;
    }
  return job;
}

static gint
by_seconds (gconstpointer a,
            gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;

  return (x > y) - (x < y);
}

/* steps.log: the steps this run took, their median seconds (the first,
 * which warms up, left out) and the last loss */
static gint
read_steps (NsTrainJob      *job,
            NsTrainProgress *out)
{
  gchar   *text = NULL;
  gchar  **lines;
  gdouble  secs[32];
  gint     n = 0, k = 0, i;

  if (! g_file_get_contents (job->log, &text, NULL, NULL))
    return 0;
  lines = g_strsplit (text, "\n", -1);
  while (lines[n] && lines[n + 1])  /* complete lines only */
    n++;
  for (i = MAX (1, n - (gint) G_N_ELEMENTS (secs)); i < n; i++)
    secs[k++] = g_ascii_strtod (lines[i], NULL);
  if (k > 0)
    {
      qsort (secs, k, sizeof secs[0], by_seconds);
      out->per_step = secs[k / 2];
    }
  if (n > 0)
    {
      gchar *end;

      g_ascii_strtod (lines[n - 1], &end);
      out->loss = g_ascii_strtod (end, NULL);
    }
  g_strfreev (lines);
  g_free (text);
  return n;
}

/* messages.txt: the step it resumed at, the steps asked, the last line */
static gint
read_messages (NsTrainJob      *job,
               NsTrainProgress *out)
{
  const gchar *prefix = "neural-style train: ";
  gchar       *text   = NULL;
  gchar      **lines;
  gint         first  = 0, i, a, b;

  if (! g_file_get_contents (job->messages, &text, NULL, NULL))
    return 0;
  lines = g_strsplit (text, "\n", -1);
  for (i = 0; lines[i]; i++)
    {
      const gchar *line = g_str_has_prefix (lines[i], prefix) ? lines[i] + strlen (prefix) : lines[i];

      if (sscanf (line, "resuming at step %d", &a) == 1)
        first = a;
      else if (sscanf (line, "step %d/%d", &a, &b) == 2)
        out->steps = b;
      if (*g_strstrip (lines[i]))
        {
          g_free (out->message);
          out->message = g_strdup (line);
        }
    }
  g_strfreev (lines);
  g_free (text);
  return first;
}

static gchar *
newest_sample (NsTrainJob *job)
{
  GDir        *dir  = g_dir_open (job->samples, 0, NULL);
  const gchar *f;
  gchar       *best = NULL;

  while (dir && (f = g_dir_read_name (dir)))
    if (g_str_has_suffix (f, ".jpg") && (! best || strcmp (f, best) > 0))
      {
        g_free (best);
        best = g_strdup (f);
      }
  if (dir)
    g_dir_close (dir);
  if (best)
    {
      gchar *path = g_build_filename (job->samples, best, NULL);

      g_free (best);
      best = path;
    }
  return best;
}

void
ns_train_poll (NsTrainJob      *job,
               NsTrainProgress *out)
{
  /* first whether it runs: when it has ended, its last lines are written */
  gboolean running = alive (job->pid, job->name);
  gint     first, n;

  memset (out, 0, sizeof *out);
  out->steps  = job->steps;
  first       = read_messages (job, out);
  n           = read_steps (job, out);
  out->step   = first + n;
  out->sample = newest_sample (job);
  if (running)
    out->state = n > 0 ? NS_TRAIN_RUNNING : NS_TRAIN_STARTING;
  else if (out->message && g_str_has_prefix (out->message, "wrote "))
    out->state = NS_TRAIN_DONE, out->step = out->steps;
  else if (out->message && g_str_has_prefix (out->message, "stopped at step"))
    out->state = NS_TRAIN_STOPPED;
  else
    out->state = NS_TRAIN_FAILED;
}

void
ns_train_progress_clear (NsTrainProgress *progress)
{
  g_clear_pointer (&progress->message, g_free);
  g_clear_pointer (&progress->sample, g_free);
}

void
ns_train_stop (NsTrainJob *job)
{
  if (alive (job->pid, job->name))
    kill (job->pid, SIGINT);
}

void
ns_train_job_free (NsTrainJob *job)
{
  NsTrainProgress now = { 0 };

  if (! job)
    return;
  /* steps.log alone gives the speed: no whole poll */
  if (read_steps (job, &now) >= 3 && now.per_step > 0)
    save_timing (job->device, job->size, ns_train_params_default ().batch, now.per_step);
  job_free (job);
}

gchar *
ns_train_progress_text (const NsTrainProgress *progress,
                        const gchar           *name)
{
  gchar left[64];

  switch (progress->state)
    {
    case NS_TRAIN_STARTING:
      return g_strdup (_("Reading the photos and the painting..."));
    case NS_TRAIN_RUNNING:
      ns_restyle_format_duration (progress->per_step > 0 ? progress->per_step * (progress->steps - progress->step)
                                                         : -1, left, sizeof left);
      /* TRANSLATORS: "Step 120 of 400, about 12 min left" */
      return g_strdup_printf (_("Step %d of %d, %s left"), progress->step, progress->steps, left);
    case NS_TRAIN_DONE:
      return g_strdup_printf (_("Done: '%s' is in Filters > Artistic > Neural Style (Fast)..."), name);
    case NS_TRAIN_STOPPED:
      return g_strdup_printf (_("Stopped at step %d of %d. Training '%s' again goes on from there."),
                              progress->step, progress->steps, name);
    default:
      return g_strdup_printf (_("Training stopped: %s"),
                              progress->message ? progress->message : _("the trainer ended without a word"));
    }
}
