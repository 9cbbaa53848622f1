/* gimp3-rows.c - GIMP 3.0: a table of settings (fast.h's rows) as a
 * procedure's arguments and its config, for Neural Style (Fast) and
 * Train Neural Style alike.
 */
#include "config.h"

#include <libgimp/gimp.h>
#include <glib/gi18n-lib.h>

#include "gimp3.h"

static GimpChoice *
device_choice (void)
{
  const gchar *const *labels;
  const gchar *const *nicks  = ns_restyle_device_choices (&labels);
  GimpChoice         *choice = gimp_choice_new ();
  gint                k;

  for (k = 0; nicks[k]; k++)
    gimp_choice_add (choice, nicks[k], k, _(labels[k]), NULL);
  return choice;
}

void
ns_gimp3_add_rows (GimpProcedure       *procedure,
                   const NsFastSetting *rows,
                   gint                 n)
{
  GParamFlags rw = G_PARAM_READWRITE;
  gint        i;

  for (i = 0; i < n; i++)
    {
      const NsFastSetting *s    = &rows[i];
      gchar               *nick = ns_row_label (s);

      switch (s->type)
        {
        case NS_FAST_TEXT:
          gimp_procedure_add_string_argument (procedure, s->name, nick, _(s->help), "", rw);
          break;
        case NS_FAST_NUMBER:
          gimp_procedure_add_double_argument (procedure, s->name, nick, _(s->help), s->min, s->max, s->value,
                                              rw);
          break;
        case NS_FAST_BOOL:
          gimp_procedure_add_boolean_argument (procedure, s->name, nick, _(s->help), s->value != 0, rw);
          break;
        case NS_FAST_DEVICE:
          gimp_procedure_add_choice_argument (procedure, s->name, nick, _(s->help), device_choice (),
                                              ns_restyle_device_choices (NULL)[(gint) s->value], rw);
          break;
        }
      g_free (nick);
    }
}

void
ns_gimp3_rows_from_config (GimpProcedureConfig *config,
                           const NsFastSetting *rows,
                           gint                 n,
                           gpointer             params)
{
  gint i;

  for (i = 0; i < n; i++)
    {
      gchar    *text = NULL;
      gdouble   d    = 0;
      gboolean  b    = FALSE;

      switch (rows[i].type)
        {
        case NS_FAST_TEXT:
          g_object_get (config, rows[i].name, &text, NULL);
          ns_row_set_text (params, &rows[i], text);
          g_free (text);
          break;
        case NS_FAST_NUMBER:
          g_object_get (config, rows[i].name, &d, NULL);
          ns_row_set (params, &rows[i], d);
          break;
        case NS_FAST_BOOL:
          g_object_get (config, rows[i].name, &b, NULL);
          ns_row_set (params, &rows[i], b);
          break;
        case NS_FAST_DEVICE:
          ns_row_set (params, &rows[i], gimp_procedure_config_get_choice_id (config, rows[i].name));
          break;
        }
    }
}

void
ns_gimp3_rows_to_config (gconstpointer        params,
                         const NsFastSetting *rows,
                         gint                 n,
                         GimpProcedureConfig *config)
{
  gint i;

  for (i = 0; i < n; i++)
    {
      const NsFastSetting *s = &rows[i];
      gdouble              v = ns_row_get (params, s);

      switch (s->type)
        {
        case NS_FAST_TEXT:   g_object_set (config, s->name, ns_row_text (params, s), NULL); break;
        case NS_FAST_NUMBER: g_object_set (config, s->name, CLAMP (v, s->min, s->max), NULL); break;
        case NS_FAST_BOOL:   g_object_set (config, s->name, (gboolean) (v != 0), NULL); break;
        case NS_FAST_DEVICE:
          g_object_set (config, s->name, ns_restyle_device_choices (NULL)[(gint) CLAMP (v, 0, 2)], NULL);
          break;
        }
    }
}
