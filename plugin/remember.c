/* remember.c - the dialog's settings in a key file between GIMP sessions:
 * the table's rows by name, so that a file written before a setting was
 * added, removed or reordered still reads.
 */
#include "config.h"

#include <locale.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "remember.h"

#define GROUP         "settings"
#define PLUGIN_GROUP  "plug-in"

/* a row's value as the command line writes it: a choice's name, "true" */
static gchar *
row_text (const NsRestyleParams   *p,
          const struct ns_setting *s)
{
  gdouble v = ns_restyle_get (p, s);
  gchar   buf[G_ASCII_DTOSTR_BUF_SIZE];

  switch (s->type)
    {
    case NS_SETTING_STRING: return g_strdup (ns_restyle_get_text (p, s));
    case NS_SETTING_BOOL:   return g_strdup (v != 0 ? "true" : "false");
    case NS_SETTING_CHOICE:
      return g_strdup (v >= 0 && v < g_strv_length ((gchar **) s->choices) ? s->choices[(gint) v] : "");
    case NS_SETTING_INT:    return g_strdup_printf ("%d", (gint) v);
    case NS_SETTING_U64:
      return g_strdup_printf ("%" G_GUINT64_FORMAT, *(const guint64 *) ((const gchar *) &p->e + s->offset));
    default:                return g_strdup (g_ascii_dtostr (buf, sizeof buf, v));
    }
}

/* Writes file to path whole or not at all (ns_write_file) and frees it;
 * FALSE and a translated error on failure. */
static gboolean
write_keys (GKeyFile     *file,
            const gchar  *path,
            GError      **error)
{
  gchar    err[256] = "";
  gsize    len;
  gchar   *data = g_key_file_to_data (file, &len, NULL);
  gboolean ok   = ns_write_file (path, data, len, err, sizeof err) == NS_STATUS_OK;

  if (! ok)
    g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_FAILED,
                 _("The settings could not be saved in %s: %s"), path, err);
  g_free (data);
  g_key_file_free (file);
  return ok;
}

gboolean
ns_remember_save (const NsRestyleParams *p,
                  const gchar           *path,
                  GError               **error)
{
  GKeyFile                *file = g_key_file_new ();
  const gchar *const      *devices = ns_restyle_device_choices (NULL);
  gint                     n, i;
  const struct ns_setting *t = ns_settings (&n);

  for (i = 0; i < n; i++)
    {
      gchar *text = row_text (p, &t[i]);

      g_key_file_set_value (file, GROUP, t[i].name, text);
      g_free (text);
    }
  g_key_file_set_value (file, PLUGIN_GROUP, "device",
                        devices[CLAMP (p->device, 0, (gint) g_strv_length ((gchar **) devices) - 1)]);
  g_key_file_set_integer (file, PLUGIN_GROUP, "paintings", p->paintings);
  g_key_file_set_double_list (file, PLUGIN_GROUP, "blend", (gdouble *) p->blend, NS_MAX_PAINTINGS);
  g_key_file_set_integer_list (file, PLUGIN_GROUP, "region", (gint *) p->region, NS_MAX_PAINTINGS);
  g_key_file_set_comment (file, NULL, NULL, " Neural Style's last settings, written by the plug-in", NULL);

  return write_keys (file, path, error);
}

/* One row from the file into p when it is valid. */
static void
load_row (NsRestyleParams         *p,
          const struct ns_setting *s,
          const gchar             *text)
{
  struct ns_params e     = p->e;
  gchar           *local = NULL;
  gchar            err[256];
  gboolean         ok;

  if (s->type == NS_SETTING_STRING)
    {
      if (strlen (text) < NS_RESTYLE_TEXT_LEN)
        ns_restyle_set_text (p, s, text);
      return;
    }
  /* written with a '.', read by strtod in the locale's own way */
  if (s->type == NS_SETTING_FLOAT || s->type == NS_SETTING_DOUBLE)
    {
      gchar **parts = g_strsplit (text, ".", -1);

      local = g_strjoinv (localeconv ()->decimal_point, parts);
      g_strfreev (parts);
      text = local;
    }
  ok = ns_setting_parse (s, text, &e, err, sizeof err) == NS_STATUS_OK;
  g_free (local);
  if (! ok)
    return;
  /* a choice the plug-ins do not offer (init image) stays out */
  if (s->type == NS_SETTING_CHOICE && ns_setting_get (s, &e) >= ns_restyle_n_choices (s))
    return;
  if (s->type == NS_SETTING_U64)
    *(guint64 *) ((gchar *) &p->e + s->offset) = *(const guint64 *) ((const gchar *) &e + s->offset);
  else
    ns_restyle_set (p, s, ns_setting_get (s, &e));
}

gboolean
ns_remember_load (NsRestyleParams *p,
                  const gchar     *path)
{
  GKeyFile                *file = g_key_file_new ();
  const gchar *const      *devices = ns_restyle_device_choices (NULL);
  gint                     n, i, k;
  const struct ns_setting *t = ns_settings (&n);
  gdouble                 *blend;
  gint                    *region;
  gsize                    len;
  gchar                   *text;
  GError                  *error = NULL;

  if (! g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, NULL))
    {
      g_key_file_free (file);
      return FALSE;
    }
  for (i = 0; i < n; i++)
    if ((text = g_key_file_get_value (file, GROUP, t[i].name, NULL)))
      {
        /* get_value keeps a string's escapes: the string itself */
        gchar *plain = t[i].type == NS_SETTING_STRING ? g_key_file_get_string (file, GROUP, t[i].name, NULL)
                                                      : NULL;

        load_row (p, &t[i], plain ? plain : text);
        g_free (plain);
        g_free (text);
      }

  if ((text = g_key_file_get_value (file, PLUGIN_GROUP, "device", NULL)))
    {
      for (k = 0; devices[k]; k++)
        if (! strcmp (devices[k], text))
          p->device = k;
      g_free (text);
    }
  k = g_key_file_get_integer (file, PLUGIN_GROUP, "paintings", &error);
  if (! error && k >= 1 && k <= NS_MAX_PAINTINGS)
    p->paintings = k;
  g_clear_error (&error);
  blend = g_key_file_get_double_list (file, PLUGIN_GROUP, "blend", &len, NULL);
  for (k = 0; blend && k < (gint) MIN (len, NS_MAX_PAINTINGS); k++)
    if (blend[k] >= 0 && blend[k] <= 1e6)
      p->blend[k] = blend[k];
  g_free (blend);
  region = g_key_file_get_integer_list (file, PLUGIN_GROUP, "region", &len, NULL);
  for (k = 0; region && k < (gint) MIN (len, NS_MAX_PAINTINGS); k++)
    if (region[k] >= NS_REGION_CHOICE_WHOLE && region[k] <= NS_REGION_CHOICE_CHANNEL)
      p->region[k] = region[k];
  g_free (region);
  g_key_file_free (file);
  return TRUE;
}

/* ---- a table of rows: Neural Style (Fast), Train Neural Style ---- */

gboolean
ns_remember_rows_save (const NsFastSetting *rows,
                       gint                 n,
                       gconstpointer        params,
                       const gchar         *group,
                       const gchar         *comment,
                       const gchar         *path,
                       GError             **error)
{
  GKeyFile *file = g_key_file_new ();
  gint      i;

  for (i = 0; i < n; i++)
    if (rows[i].type == NS_FAST_TEXT)
      g_key_file_set_string (file, group, rows[i].name, ns_row_text (params, &rows[i]));
    else
      g_key_file_set_double (file, group, rows[i].name, ns_row_get (params, &rows[i]));
  g_key_file_set_comment (file, NULL, NULL, comment, NULL);
  return write_keys (file, path, error);
}

gboolean
ns_remember_rows_load (const NsFastSetting *rows,
                       gint                 n,
                       gpointer             params,
                       const gchar         *group,
                       const gchar         *path)
{
  GKeyFile *file = g_key_file_new ();
  gboolean  ok   = g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, NULL);
  gint      i;

  for (i = 0; ok && i < n; i++)
    {
      GError *error = NULL;

      if (rows[i].type == NS_FAST_TEXT)
        {
          gchar *text = g_key_file_get_string (file, group, rows[i].name, NULL);

          if (text)
            ns_row_set_text (params, &rows[i], text);
          g_free (text);
        }
      else
        {
          gdouble v = g_key_file_get_double (file, group, rows[i].name, &error);

          if (! error && v >= rows[i].min && v <= rows[i].max)
            ns_row_set (params, &rows[i], v);
          g_clear_error (&error);
        }
    }
  g_key_file_free (file);
  return ok;
}
