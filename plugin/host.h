/* host.h - what both GIMP plug-ins do alike around a run: where the plug-in
 * is installed, the run's buffers, and the PDB status of an error.
 */
#ifndef __NS_HOST_H__
#define __NS_HOST_H__

#include <libgimp/gimp.h>

#include "restyle.h"

G_BEGIN_DECLS

/* The help domain the plug-in installs (help/<lang>/gimp-help.xml beside
 * the binary). */
#define NS_HELP_DOMAIN "neural-style"

typedef struct
{
  GeglRectangle  area;      /* the part restyled, layer coordinates */
  gint           offset_x;  /* the photo's offsets in the image */
  gint           offset_y;
  GeglBuffer    *content;   /* the photo */
  NsPainting     paintings[NS_MAX_PAINTINGS];  /* params->paintings of them */
  GeglBuffer    *mask;      /* the selection where it limits the run, or NULL */
  GeglBuffer    *result;    /* set by ns_host_restyle */
} NsHostRun;

/* The folder the plug-in binary is in (new string). */
gchar           * ns_host_plugin_dir  (void);

/* Restyles r's buffers into r->result with GIMP's progress bar; touches
 * says whether the selection meets the photo (r's buffers are set only
 * then).  FALSE and an error on failure. */
gboolean          ns_host_restyle     (NsHostRun             *r,
                                       gboolean               touches,
                                       struct ns_context     *ctx,
                                       const NsRestyleParams *params,
                                       GError               **error);
void              ns_host_run_clear   (NsHostRun             *r);

GimpPDBStatusType ns_host_status_of   (const GError          *error);

G_END_DECLS

#endif /* __NS_HOST_H__ */
