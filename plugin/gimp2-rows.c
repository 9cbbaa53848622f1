/* gimp2-rows.c - GIMP 2.10: a table of settings (fast.h's rows) as a
 * procedure's arguments, for Neural Style (Fast) and Train Neural Style
 * alike.
 */
#include "config.h"

#include <string.h>

#include <libgimp/gimp.h>
#include <glib/gi18n-lib.h>

#include "gimp2.h"

static GimpPDBArgType
arg_type (const NsFastSetting *s)
{
  switch (s->type)
    {
    case NS_FAST_TEXT:   return GIMP_PDB_STRING;
    case NS_FAST_NUMBER: return GIMP_PDB_FLOAT;
    default:             return GIMP_PDB_INT32;
    }
}

/* The help, with the range or the choices' numbers (the procedure
 * browser shows it as written).  Lives as long as the plug-in. */
static gchar *
arg_blurb (const NsFastSetting *s)
{
  const gchar *const *nicks = ns_restyle_device_choices (NULL);
  GString            *text  = g_string_new (s->help);
  gint                k;

  if (s->type == NS_FAST_NUMBER)
    g_string_append_printf (text, " (%g..%g)", s->min, s->max);
  else if (s->type == NS_FAST_BOOL)
    g_string_append (text, " { FALSE (0), TRUE (1) }");
  else if (s->type == NS_FAST_DEVICE)
    {
      for (k = 0; nicks[k]; k++)
        g_string_append_printf (text, "%s%s (%d)", k ? ", " : " { ", nicks[k], k);
      g_string_append (text, " }");
    }
  return g_string_free (text, FALSE);
}

GimpParamDef *
ns_gimp2_row_defs (const GimpParamDef  *first,
                   gint                 n_first,
                   const NsFastSetting *rows,
                   gint                 n)
{
  GimpParamDef *args = g_new0 (GimpParamDef, n_first + n);
  gint          i;

  memcpy (args, first, n_first * sizeof *first);
  for (i = 0; i < n; i++)
    {
      args[n_first + i].type        = arg_type (&rows[i]);
      args[n_first + i].name        = (gchar *) rows[i].name;
      args[n_first + i].description = arg_blurb (&rows[i]);
    }
  return args;
}

gboolean
ns_gimp2_read_rows (gint                 nparams,
                    const GimpParam     *param,
                    gint                 n_first,
                    const NsFastSetting *rows,
                    gint                 n,
                    gpointer             params,
                    GError             **error)
{
  gint i;

  if (nparams != n_first + n)
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("Neural Style takes %d arguments, not %d."), n_first + n, nparams);
      return FALSE;
    }
  for (i = 0; i < n; i++)
    {
      const GimpParam *a = &param[n_first + i];

      if (rows[i].type == NS_FAST_TEXT)
        ns_row_set_text (params, &rows[i], a->data.d_string);
      else
        ns_row_set (params, &rows[i], rows[i].type == NS_FAST_NUMBER ? a->data.d_float : a->data.d_int32);
    }
  return TRUE;
}
