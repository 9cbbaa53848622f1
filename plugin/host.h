/* host.h - the plug-in's core, written once for both GIMPs: which layers
 * are the photo and the paintings, whether they can be used, the regions,
 * the run and where its result goes.  Each GIMP version is a thin adapter
 * (gimp2.c, gimp3.c) that answers NsHostOps' questions through its own
 * API, with items named by their GIMP IDs.
 */
#ifndef __NS_HOST_H__
#define __NS_HOST_H__

#include <libgimp/gimp.h>

#include "fast.h"
#include "layers.h"
#include "restyle.h"
#include "train.h"

G_BEGIN_DECLS

/* The help domain the plug-in installs (help/<lang>/gimp-help.xml beside
 * the binary). */
#define NS_HELP_DOMAIN "neural-style"

typedef enum
{
  NS_ITEM_NONE,     /* no such item (-1, or it was deleted) */
  NS_ITEM_LAYER,
  NS_ITEM_MASK,     /* a layer mask: owner is its layer */
  NS_ITEM_CHANNEL,
  NS_ITEM_OTHER     /* a path, the selection... */
} NsItemKind;

/* What a version's API tells of one item. */
typedef struct
{
  NsItemKind kind;
  gint       image;     /* its image's ID */
  gint       owner;     /* a mask's layer */
  gint       width;
  gint       height;
  gint       x;         /* offsets in the image */
  gint       y;
  gboolean   visible;   /* its own flag */
  gboolean   group;
  gboolean   result;    /* carries NS_RESULT_PARASITE */
  gint       mask;      /* a layer's mask, -1 = none */
} NsItemInfo;

/* What a version's API tells of one image. */
typedef struct
{
  gint      width;
  gint      height;
  gboolean  indexed;
  gint      selection;        /* the selection channel's ID */
  gboolean  selection_empty;
  gchar    *file;             /* the file it came from or was saved to, without
                                 folder (new string), or NULL */
} NsImageInfo;

/* The GIMP API under the core.  IDs are GIMP's item and image IDs. */
typedef struct
{
  void         (* item)           (gint                 id,
                                   NsItemInfo          *info);
  gchar      * (* name)           (gint                 id);
  void         (* image)          (gint                 image,
                                   NsImageInfo         *info);
  /* the layers in a group, or in the image when group is -1, the topmost
     first; the image's channels (g_free the arrays) */
  gint       * (* children)       (gint                 image,
                                   gint                 group,
                                   gint                *n);
  gint       * (* channels)       (gint                 image,
                                   gint                *n);
  GeglBuffer * (* buffer)         (gint                 drawable);
  GdkPixbuf  * (* thumbnail)      (gint                 drawable,
                                   gint                 size);
  /* the part of the drawable the selection covers, drawable coordinates;
     FALSE when it covers none */
  gboolean     (* mask_intersect) (gint                 drawable,
                                   GeglRectangle       *area);
  /* a new layer like `like` (size, type, offsets) called name, marked with
     NS_RESULT_PARASITE before it is in the image, put in like's stack
     directly above `above` */
  gint         (* new_layer)      (gint                 image,
                                   gint                 like,
                                   gint                 above,
                                   const gchar         *name);
  gint         (* add_mask)       (gint                 layer);  /* white */
  void         (* update)         (gint                 drawable);
  void         (* set_visible)    (gint                 id,
                                   gboolean             visible);
  void         (* select_layer)   (gint                 image,
                                   gint                 layer);
  void         (* undo_group)     (gint                 image,
                                   gboolean             start);
} NsHostOps;

/* The photo, the paintings and the settings of one run. */
typedef struct
{
  NsRestyleParams params;
  gint            content;
  gint            styles[NS_MAX_PAINTINGS];    /* the paintings, -1 = none */
  gint            channels[NS_MAX_PAINTINGS];  /* their region channels, -1 = none */
} NsHostChoice;

/* The defaults: no layers chosen. */
NsHostChoice      ns_host_choice_new  (void);

/* The image's layers and channels as the rules (layers.h) see them. */
void              ns_host_list_layers (const NsHostOps      *ops,
                                       gint                  image,
                                       NsLayerList          *list);

/* The photo a selected drawable stands for: a mask for its layer, a
 * channel for none (-1). */
gint              ns_host_photo_of    (const NsHostOps      *ops,
                                       gint                  drawable);

/* The photo and the painting for this image, guessed from the selected
 * drawables and c's (the last run's), into c; the paintings and channels
 * that are not of this image are forgotten.  layers is filled for the
 * dialog.  FALSE, after a message saying how to add a painting, when the
 * image has none. */
gboolean          ns_host_guess       (const NsHostOps      *ops,
                                       gint                  image,
                                       const gint           *selected,
                                       gint                  n_selected,
                                       NsHostChoice         *c,
                                       NsLayerList          *layers);

/* Checks c against the image, opens the engine when *ctx is NULL, runs
 * with GIMP's progress bar and adds the result in view, in one undo step:
 * the new layer's ID, or -1 and an error. */
gint              ns_host_run         (const NsHostOps      *ops,
                                       gint                  image,
                                       const NsHostChoice   *c,
                                       struct ns_context   **ctx,
                                       GError              **error);

/* Neural Style (Fast): checks p and the photo layer `content`, loads the
 * style, opens the device when *ctx is NULL, runs with GIMP's progress
 * bar (through the selection) and adds the result above the photo in
 * view, in one undo step: the new layer's ID, or -1 and an error. */
gint              ns_host_run_fast    (const NsHostOps      *ops,
                                       gint                  image,
                                       gint                  content,
                                       const NsFastParams   *p,
                                       struct ns_context   **ctx,
                                       GError              **error);

/* Train Neural Style (host-train.c): starts training p on the layer
 * `painting`, or joins the run under p's name that is still going.
 * Interactive: the run's window until it ends or is closed (the run goes
 * on).  Otherwise it waits for the end with GIMP's progress bar.  FALSE
 * and an error when it did not start or (waiting) did not finish. */
gboolean          ns_host_train       (const NsHostOps      *ops,
                                       gint                  painting,
                                       const NsTrainParams  *p,
                                       gboolean              interactive,
                                       GError              **error);

/* p's name from the painting layer's unless p's run can go on (it
 * stopped with a checkpoint, or runs), and the photos' folder the
 * defaults' when p has none. */
void              ns_host_train_fill  (const NsHostOps      *ops,
                                       gint                  painting,
                                       NsTrainParams        *p);

GimpPDBStatusType ns_host_status_of   (const GError          *error);

G_END_DECLS

#endif /* __NS_HOST_H__ */
