/* host.c - what both GIMP plug-ins do alike around a run. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "host.h"

gchar *
ns_host_plugin_dir (void)
{
  gchar *exe = g_file_read_link ("/proc/self/exe", NULL);
  gchar *dir = exe ? g_path_get_dirname (exe) : g_strdup (".");

  g_free (exe);
  return dir;
}

static gboolean
progress_update (gdouble      fraction,
                 const gchar *text,
                 gpointer     data)
{
  gimp_progress_set_text (text);
  gimp_progress_update (fraction);
  return TRUE;  /* GIMP cancels a plug-in's run by ending its process */
}

gboolean
ns_host_restyle (NsHostRun             *r,
                 gboolean               touches,
                 struct ns_context     *ctx,
                 const NsRestyleParams *params,
                 GError               **error)
{
  if (! touches)
    {
      g_set_error (error, NS_RESTYLE_ERROR, NS_RESTYLE_ERROR_INVALID,
                   _("The selection does not touch the photo's layer."));
      return FALSE;
    }
  gimp_progress_init (_("Neural Style"));
  r->result = ns_restyle (ctx, r->content, &r->area, r->mask, r->offset_x, r->offset_y, r->paintings,
                          params, progress_update, NULL, error);
  gimp_progress_end ();
  return r->result != NULL;
}

void
ns_host_run_clear (NsHostRun *r)
{
  gint k;

  g_clear_object (&r->content);
  for (k = 0; k < NS_MAX_PAINTINGS; k++)
    {
      g_clear_object (&r->paintings[k].buffer);
      g_clear_object (&r->paintings[k].region);
    }
  g_clear_object (&r->mask);
  g_clear_object (&r->result);
}

GimpPDBStatusType
ns_host_status_of (const GError *error)
{
  if (error->domain == NS_RESTYLE_ERROR && error->code == NS_RESTYLE_ERROR_CANCELLED)
    return GIMP_PDB_CANCEL;
  if (error->domain == NS_RESTYLE_ERROR && error->code == NS_RESTYLE_ERROR_INVALID)
    return GIMP_PDB_CALLING_ERROR;
  return GIMP_PDB_EXECUTION_ERROR;
}
