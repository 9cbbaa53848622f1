/* host.c - what both GIMP plug-ins do alike around a run. */
#include "config.h"

#include "host.h"

gchar *
ns_host_plugin_dir (void)
{
  gchar *exe = g_file_read_link ("/proc/self/exe", NULL);
  gchar *dir = exe ? g_path_get_dirname (exe) : g_strdup (".");

  g_free (exe);
  return dir;
}

gboolean
ns_host_restyle (NsHostRun             *r,
                 struct ns_context     *ctx,
                 const NsRestyleParams *params,
                 NsProgressFunc         progress,
                 GError               **error)
{
  r->result = ns_restyle (ctx, r->content, &r->area, r->mask, r->offset_x, r->offset_y, r->style,
                          params, progress, NULL, error);
  return r->result != NULL;
}

void
ns_host_run_clear (NsHostRun *r)
{
  g_clear_object (&r->content);
  g_clear_object (&r->style);
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
