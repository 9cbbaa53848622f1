/* layers.h - the image's layer stack as the plug-ins see it, and the
 * decisions taken on it: which layer is the photo and which the painting,
 * and whether the painting would hide the result.  GLib only, so that the
 * rules are unit-tested without GIMP.
 */
#ifndef __NS_LAYERS_H__
#define __NS_LAYERS_H__

#include <glib.h>

G_BEGIN_DECLS

#define NS_LAYER_MAX_DEPTH 16

/* The parasite that marks a layer Neural Style made: never taken for a photo
 * or a painting. */
#define NS_RESULT_PARASITE "neural-style-result"

typedef struct
{
  gint      id;
  gchar    *name;
  gint      width;
  gint      height;
  gint      x;        /* offsets in the image */
  gint      y;
  gboolean  visible;  /* itself and every group it is in */
  gboolean  group;
  gboolean  result;   /* carries NS_RESULT_PARASITE */
  gint      depth;    /* 0 = top level */
  gint      path[NS_LAYER_MAX_DEPTH]; /* stack positions from the top level
                                         down; 0 = the topmost */
  gboolean  has_mask; /* a layer mask (a painting's possible region) */
} NsLayer;

typedef struct
{
  NsLayer *layers;     /* every layer, a group before its children, the
                          topmost first */
  gint     n;
  gchar   *image_name; /* the image file's name without folder, or NULL */
  gint     n_channels; /* the image's channels (possible regions) */
  gint    *channel_ids;
  gchar  **channel_names;
  gint     width;      /* the canvas */
  gint     height;
} NsLayerList;

/* Puts l at `index` in parent's stack (NULL = the image's): its path and
 * depth, and its visibility as drawn (hidden when parent is). */
void            ns_layer_place      (NsLayer           *l,
                                     const NsLayer     *parent,
                                     gint               index);
void            ns_layer_list_add   (NsLayerList       *list,
                                     const NsLayer     *layer);
void            ns_layer_list_add_channel (NsLayerList *list,
                                           gint         id,
                                           const gchar *name);
void            ns_layer_list_clear (NsLayerList       *list);
const NsLayer * ns_layer_list_find  (const NsLayerList *list,
                                     gint               id);

/* TRUE when a is drawn over b (a group is drawn over nothing it holds). */
gboolean  ns_layer_is_above     (const NsLayer     *a,
                                 const NsLayer     *b);
/* TRUE when group holds item, at any depth. */
gboolean  ns_layer_holds        (const NsLayer     *group,
                                 const NsLayer     *item);

/* TRUE when content and style can be restyled together: two layers of the
 * list, neither holding the other. */
gboolean  ns_layers_usable_pair (const NsLayerList *list,
                                 gint               content,
                                 gint               style);

/* The photo and the painting a photographer most likely means, given the
 * selected (active) layers and the last run's pair (-1 if none).  The photo
 * is the layer named after the image's file, or one that fills the canvas,
 * or the lower one; the painting, added with File > Open as Layers, keeps
 * its own size and name and sits above it; a copy of the photo is a photo.
 * content and style are -1 when the image has no usable pair. */
void      ns_layers_guess       (const NsLayerList *list,
                                 const gint        *selected,
                                 gint               n_selected,
                                 gint               last_content,
                                 gint               last_style,
                                 gint              *content,
                                 gint              *style);

/* Where a new result goes: directly above the returned layer, which is the
 * photo or, when earlier results sit above it in the same stack, the
 * topmost of them (so that the newest result is the one in view). */
gint      ns_layers_result_anchor (const NsLayerList *list,
                                   gint               content);

/* TRUE when the painting, visible and drawn over the anchor, would hide a
 * result placed directly above it. */
gboolean  ns_layers_style_hides (const NsLayerList *list,
                                 gint               anchor,
                                 gint               style);

G_END_DECLS

#endif /* __NS_LAYERS_H__ */
