/* params.c - the plug-ins' settings: the engine's table of settings
 * (ns_settings) read and written by row, the plug-in's own (device,
 * paintings), their checks, strength and quality, and the presets.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "restyle-private.h"

/* The engine's defaults, but fewer iterations: a dialog run should finish
 * while the photographer waits. */
NsRestyleParams
ns_restyle_defaults (void)
{
  NsRestyleParams p = { .e = ns_params_default (), .device = NS_BACKEND_AUTO, .paintings = 1,
                        .blend = { 1.0, 1.0, 1.0 } };
  gint            n, i;
  const struct ns_setting *t = ns_settings (&n);

  p.e.iterations = 200;
  /* the strings move into text; no pointer is kept */
  for (i = 0; i < n; i++)
    if (t[i].type == NS_SETTING_STRING)
      {
        const gchar **field = (const gchar **) ((gchar *) &p.e + t[i].offset);

        ns_restyle_set_text (&p, &t[i], *field);
        *field = NULL;
      }
  return p;
}

/* Which of text holds a string row: the strings in table order. */
static gchar *
text_of (const NsRestyleParams   *p,
         const struct ns_setting *s)
{
  gint                     n, i, k = 0;
  const struct ns_setting *t = ns_settings (&n);

  for (i = 0; i < n && &t[i] != s; i++)
    k += t[i].type == NS_SETTING_STRING;
  g_return_val_if_fail (k < NS_RESTYLE_TEXTS, NULL);
  return (gchar *) p->text[k];
}

gdouble
ns_restyle_get (const NsRestyleParams   *p,
                const struct ns_setting *s)
{
  return ns_setting_get (s, &p->e);
}

void
ns_restyle_set (NsRestyleParams         *p,
                const struct ns_setting *s,
                gdouble                  value)
{
  ns_setting_set (s, &p->e, value);
}

const gchar *
ns_restyle_get_text (const NsRestyleParams   *p,
                     const struct ns_setting *s)
{
  const gchar *text = text_of (p, s);

  return text ? text : "";
}

void
ns_restyle_set_text (NsRestyleParams         *p,
                     const struct ns_setting *s,
                     const gchar             *text)
{
  gchar *field = text_of (p, s);

  if (field)
    g_strlcpy (field, text ? text : "", NS_RESTYLE_TEXT_LEN);
}

struct ns_params
ns_restyle_engine_params (const NsRestyleParams *p)
{
  struct ns_params         e = p->e;
  gint                     n, i;
  const struct ns_setting *t = ns_settings (&n);

  for (i = 0; i < n; i++)
    if (t[i].type == NS_SETTING_STRING)
      {
        const gchar *text = ns_restyle_get_text (p, &t[i]);

        *(const gchar **) ((gchar *) &e + t[i].offset) = *text ? text : NULL;
      }
  /* regions are planned on whole levels: the count is enough for the
   * estimates; ns_restyle points style_masks at the masks */
  e.n_style_masks = ns_restyle_has_regions (p) ? CLAMP (p->paintings, 1, NS_MAX_PAINTINGS) : 0;
  return e;
}

gboolean
ns_restyle_selection_is_region (const NsRestyleParams *p)
{
  gint k;

  for (k = 0; k < CLAMP (p->paintings, 1, NS_MAX_PAINTINGS); k++)
    if (p->region[k] == NS_REGION_CHOICE_SELECTION)
      return TRUE;
  return FALSE;
}

gboolean
ns_restyle_has_regions (const NsRestyleParams *p)
{
  gint k;

  for (k = 0; k < CLAMP (p->paintings, 1, NS_MAX_PAINTINGS); k++)
    if (p->region[k] != NS_REGION_CHOICE_WHOLE)
      return TRUE;
  return FALSE;
}

gboolean
ns_restyle_same_look (const NsRestyleParams *a,
                      const NsRestyleParams *b)
{
  gint                     n, i;
  const struct ns_setting *t = ns_settings (&n);

  for (i = 0; i < n; i++)
    {
      if (t[i].place == NS_SETTING_HIDDEN || t[i].arg == NS_SETTING_ARG_AUX)
        continue;
      if (t[i].type == NS_SETTING_STRING ? strcmp (ns_restyle_get_text (a, &t[i]), ns_restyle_get_text (b, &t[i]))
                                         : ns_restyle_get (a, &t[i]) != ns_restyle_get (b, &t[i]))
        return FALSE;
    }
  return TRUE;
}

void
ns_restyle_keep_machine (NsRestyleParams       *p,
                         const NsRestyleParams *from)
{
  gint                     n, i;
  const struct ns_setting *t = ns_settings (&n);

  for (i = 0; i < n; i++)
    if (t[i].arg == NS_SETTING_ARG_AUX)
      ns_restyle_set (p, &t[i], ns_restyle_get (from, &t[i]));
}

/* ---- the procedures' arguments ---- */

static const gchar *const device_nicks[]  = { "auto", "cpu", "gpu", NULL };
static const gchar *const device_labels[] = { N_("Automatic (the GPU if one is usable)"), N_("CPU"),
                                              N_("GPU (NVIDIA, CUDA)"), NULL };

gint
ns_restyle_n_args (void)
{
  gint                     n, i, last = 0;
  const struct ns_setting *t = ns_settings (&n);

  for (i = 0; i < n; i++)
    last = MAX (last, t[i].arg);
  return last;
}

const struct ns_setting *
ns_restyle_arg (gint position)
{
  gint                     n, i;
  const struct ns_setting *t = ns_settings (&n);

  for (i = 0; i < n; i++)
    if (t[i].arg == position)
      return &t[i];
  return NULL;
}

void
ns_restyle_foreach_setting (NsRestyleSettingFunc func,
                            gpointer             data)
{
  gint                     n, i, k;
  const struct ns_setting *t = ns_settings (&n);

  for (k = 1; k <= ns_restyle_n_args (); k++)
    func (ns_restyle_arg (k), data);
  for (i = 0; i < n; i++)
    if (t[i].arg == NS_SETTING_ARG_AUX)
      func (&t[i], data);
}

const gchar *const *
ns_restyle_device_choices (const gchar *const **labels)
{
  if (labels)
    *labels = device_labels;
  return device_nicks;
}

gint
ns_restyle_n_choices (const struct ns_setting *s)
{
  gint k = 0;

  while (s->choices && s->choices[k])
    k++;
  return s->front_choices > 0 ? MIN (k, s->front_choices) : k;
}

/* ---- checks ---- */

/* A label inside a sentence: "memory limit (GB)" */
static gchar *
label_in_sentence (const struct ns_setting *s)
{
  GString     *plain = g_string_new (NULL);
  const gchar *c;
  gchar       *first, *text;

  /* without the dialog's mnemonic: "_Memory", "メモリー上限(_M)" */
  for (c = _(s->label); *c; c++)
    if (c[0] == '(' && c[1] == '_' && c[2] && c[3] == ')')
      c += 3;
    else if (*c != '_')
      g_string_append_c (plain, *c);
  first = g_utf8_strdown (plain->str, g_utf8_next_char (plain->str) - plain->str);
  text  = g_strconcat (first, g_utf8_next_char (plain->str), NULL);
  g_free (first);
  g_string_free (plain, TRUE);
  return text;
}

/* A setting out of its row's range, as a translated sentence. */
static gchar *
check_row (const NsRestyleParams   *p,
           const struct ns_setting *s)
{
  gdouble v   = ns_restyle_get (p, s);
  gint    top = ns_restyle_n_choices (s) - 1;
  gchar  *label, *text;

  if (s->type == NS_SETTING_STRING || s->type == NS_SETTING_U64 || s->type == NS_SETTING_BOOL)
    return NULL;
  if (s->type == NS_SETTING_CHOICE ? v >= 0 && v <= top && v == floor (v)
                                   : isfinite (v) && v >= s->min && v <= s->max &&
                                     ! (s->min_excluded && v <= s->min))
    return NULL;
  label = label_in_sentence (s);
  if (s->type == NS_SETTING_CHOICE)
    /* TRANSLATORS: "optimizer must be a choice from 0 to 1" */
    text = g_strdup_printf (_("%s must be a choice from 0 to %d"), label, top);
  else if (s->max >= G_MAXFLOAT)
    /* TRANSLATORS: "smoothness must not be negative" */
    text = g_strdup_printf (_("%s must not be negative"), label);
  else
    /* TRANSLATORS: "iterations must be between 0 and 100000" */
    text = g_strdup_printf (_("%s must be between %g and %g"), label, s->min, s->max);
  g_free (label);
  return text;
}

/* The fast style a warm start needs: a model file or an installed
 * style's name, as a sentence when missing. */
static gchar *
check_warm_start (const NsRestyleParams *p)
{
  const gchar *name = ns_restyle_get_text (p, ns_setting_find ("init-model"));
  gchar       *path;
  gboolean     found;

  if (p->e.init != NS_INIT_MODEL)
    return NULL;
  if (! *name)
    return g_strdup (_("starting from a fast style needs the style: choose one, or install "
                       "styles with ./install.sh --styles"));
  /* as the engine will look for it */
  path  = ns_style_resolve (name);
  found = path && g_file_test (path, G_FILE_TEST_EXISTS);
  free (path);
  /* TRANSLATORS: the fast style a run should start from */
  return found ? NULL : g_strdup_printf (_("the fast style “%s” is not installed"), name);
}

/* The paintings' weights and regions, as a sentence when wrong. */
static gchar *
check_paintings (const NsRestyleParams *p)
{
  gdouble sum = 0.0;
  gint    k;

  for (k = 0; k < p->paintings; k++)
    {
      if (! (p->blend[k] >= 0 && p->blend[k] <= 1e6))
        return g_strdup (_("the paintings' weights must be between 0 and 1000000"));
      if (p->region[k] < NS_REGION_CHOICE_WHOLE || p->region[k] > NS_REGION_CHOICE_CHANNEL)
        return g_strdup (_("a region must be the whole photo (0), the selection (1), the "
                           "painting's layer mask (2) or a channel (3)"));
      sum += p->blend[k];
    }
  if (! (sum > 0))
    return g_strdup (_("at least one painting needs a weight above 0"));
  if (p->e.correlation_chain && ns_restyle_has_regions (p))
    return g_strdup (_("the correlation chain cannot be combined with regions yet"));
  return NULL;
}

gboolean
ns_restyle_check_params (const NsRestyleParams  *p,
                         GError                **error)
{
  gint                     n, i;
  const struct ns_setting *t    = ns_settings (&n);
  gchar                   *what = NULL;

  for (i = 0; i < n && ! what; i++)
    what = check_row (p, &t[i]);
  if (what)
    ;
  else if (p->device < NS_BACKEND_AUTO || p->device > NS_BACKEND_CUDA)
    what = g_strdup (_("device must be 0 (auto), 1 (CPU) or 2 (GPU)"));
  else if (p->paintings < 1 || p->paintings > NS_MAX_PAINTINGS)
    what = g_strdup_printf (_("between 1 and %d paintings can be used"), NS_MAX_PAINTINGS);
  else if (! (what = check_warm_start (p)))
    what = check_paintings (p);

  if (what)
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("Invalid argument: %s."), what);
      g_free (what);
      return FALSE;
    }

  return TRUE;
}

/* ---- strength and quality ---- */

/* the default balance of style to content, strength 50 */
static gdouble
default_ratio (void)
{
  NsRestyleParams d = ns_restyle_defaults ();

  return d.e.style_weight / d.e.content_weight;
}

gdouble
ns_restyle_strength (const NsRestyleParams *p)
{
  gdouble s;

  if (! (p->e.style_weight > 0))
    return 0.0;
  if (! (p->e.content_weight > 0))
    return 100.0;
  s = 50.0 + 25.0 * log10 (p->e.style_weight / p->e.content_weight / default_ratio ());
  return CLAMP (s, 0.0, 100.0);
}

void
ns_restyle_set_strength (NsRestyleParams *p,
                         gdouble          strength)
{
  gdouble cw = p->e.content_weight > 0 ? p->e.content_weight : 1.0;

  p->e.content_weight = cw;
  p->e.style_weight   = cw * default_ratio () * pow (10.0, (CLAMP (strength, 0.0, 100.0) - 50.0) / 25.0);
}

NsQuality
ns_restyle_quality (const NsRestyleParams *p)
{
  if (p->e.size == 0)
    return NS_QUALITY_FINAL;
  if (p->e.size == NS_DRAFT_SIZE)
    return NS_QUALITY_DRAFT;
  return NS_QUALITY_CUSTOM;
}

/* ---- presets ---- */

const gchar *
ns_restyle_preset_label (const gchar *name)
{
  if (! g_strcmp0 (name, "gatys2016"))
    return _("Gatys et al. 2016 (the paper)");
  if (! g_strcmp0 (name, "improved"))
    return _("Improved (Novak & Nikulin)");
  if (! g_strcmp0 (name, "faithful"))
    return _("Faithful: a light touch");
  if (! g_strcmp0 (name, "balanced"))
    return _("Balanced");
  if (! g_strcmp0 (name, "painterly"))
    return _("Painterly: boldly painted");
  return name;
}

/* The engine's params back into p: the table's rows, strings copied. */
static void
set_from_engine (NsRestyleParams        *p,
                 const struct ns_params *e)
{
  gint                     n, i;
  const struct ns_setting *t = ns_settings (&n);

  for (i = 0; i < n; i++)
    if (t[i].type == NS_SETTING_STRING)
      ns_restyle_set_text (p, &t[i], *(const gchar *const *) ((const gchar *) e + t[i].offset));
    else
      ns_restyle_set (p, &t[i], ns_setting_get (&t[i], e));
}

void
ns_restyle_apply_preset (NsRestyleParams   *p,
                         const gchar       *name,
                         struct ns_context *ctx)
{
  struct ns_params e = ns_restyle_engine_params (p);
  NsRestyleParams  q = *p;  /* e's strings point into p */

  if (ns_params_preset (&e, name) != NS_STATUS_OK)
    return;
  ns_params_preset_fit (ctx, &e, name);
  set_from_engine (&q, &e);
  *p = q;
}

const gchar *
ns_restyle_preset_of (const NsRestyleParams *p)
{
  struct ns_params e = ns_restyle_engine_params (p);

  return ns_params_preset_of (&e);
}
