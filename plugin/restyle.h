/* restyle.h - what the GIMP 2.10 and 3.0 plug-ins share, above the GIMP API.
 *
 * The settings and the words for them, the engine opened once per run, the
 * estimate, and the work on GeglBuffers: reading the photo and the painting,
 * running the engine, scaling the result back to the layer's size, blending
 * it through the selection.
 */
#ifndef __NS_RESTYLE_H__
#define __NS_RESTYLE_H__

#include <gegl.h>

#include "ns.h"

struct ns_context;

#define PLUG_IN_PROC    "plug-in-neural-style"
#define PLUG_IN_BINARY  "neural-style"
#define PLUG_IN_ROLE    "gimp-neural-style"

/* Quality Draft: the longest side the engine works at */
#define NS_DRAFT_SIZE   512

G_BEGIN_DECLS

/* Where a painting acts (one style per region, Gatys et al. 2017) */
typedef enum
{
  NS_REGION_CHOICE_WHOLE      = 0,  /* the whole photo */
  NS_REGION_CHOICE_SELECTION  = 1,  /* the selection */
  NS_REGION_CHOICE_LAYER_MASK = 2,  /* the painting layer's own mask */
  NS_REGION_CHOICE_CHANNEL    = 3   /* a channel of the image */
} NsRegionChoice;

/* Paintings in one run, each with a blend weight and a region */
#define NS_MAX_PAINTINGS 3

typedef enum
{
  NS_QUALITY_DRAFT,   /* size NS_DRAFT_SIZE */
  NS_QUALITY_FINAL,   /* size 0: the layer's own, or the largest that fits */
  NS_QUALITY_CUSTOM
} NsQuality;

/* The strings among the table's settings (ns_settings), in its order */
#define NS_RESTYLE_TEXTS    3
#define NS_RESTYLE_TEXT_LEN 256

typedef struct
{
  /* every setting of the table (ns_settings), read and written through its
     rows; the strings and pointers stay NULL here: the strings live in
     text, and ns_restyle_engine_params points at them */
  struct ns_params e;
  gchar    text[NS_RESTYLE_TEXTS][NS_RESTYLE_TEXT_LEN];
  gint     device;          /* enum ns_backend_kind: where to compute */

  /* several paintings: how many are in use (the first is the painting),
     each one's blend weight and region */
  gint     paintings;
  gdouble  blend[NS_MAX_PAINTINGS];
  gint     region[NS_MAX_PAINTINGS];  /* NsRegionChoice */
} NsRestyleParams;

/* One painting of a run, as GEGL buffers. */
typedef struct
{
  GeglBuffer *buffer;    /* the painting's pixels */
  GeglBuffer *region;    /* where it acts, read as gray (NULL = the whole photo) */
  gint        region_x;  /* where the photo layer's origin falls in region */
  gint        region_y;
} NsPainting;

#define NS_RESTYLE_ERROR (ns_restyle_error_quark ())

typedef enum
{
  NS_RESTYLE_ERROR_INVALID,    /* a calling error: bad arguments */
  NS_RESTYLE_ERROR_WEIGHTS,    /* weights missing or unusable */
  NS_RESTYLE_ERROR_MEMORY,
  NS_RESTYLE_ERROR_CANCELLED,
  NS_RESTYLE_ERROR_FAILED
} NsRestyleError;

/* Return FALSE to cancel. */
typedef gboolean (* NsProgressFunc) (gdouble      fraction,
                                     const gchar *text,
                                     gpointer     user_data);

GQuark    ns_restyle_error_quark   (void);
void      ns_restyle_init_i18n     (void);
/* The folder the plug-in binary is in (new string). */
gchar   * ns_restyle_plugin_dir    (void);
NsRestyleParams ns_restyle_defaults (void);

/* A table row's value in p, as ns_setting_get gives it, and setting it
 * (clamped to its range); a string row's text ("" = the default) and
 * setting it. */
gdouble   ns_restyle_get           (const NsRestyleParams    *p,
                                    const struct ns_setting  *s);
void      ns_restyle_set           (NsRestyleParams          *p,
                                    const struct ns_setting  *s,
                                    gdouble                   value);
const gchar * ns_restyle_get_text  (const NsRestyleParams    *p,
                                    const struct ns_setting  *s);
void      ns_restyle_set_text      (NsRestyleParams          *p,
                                    const struct ns_setting  *s,
                                    const gchar              *text);

/* Whether a and b restyle alike: every setting a dialog shows but the
 * machine's own (the memory limit). */
gboolean  ns_restyle_same_look     (const NsRestyleParams    *a,
                                    const NsRestyleParams    *b);

/* The settings of this machine (NS_SETTING_ARG_AUX: the memory limit)
 * copied from `from` into p: a call's arguments do not carry them. */
void      ns_restyle_keep_machine  (NsRestyleParams          *p,
                                    const NsRestyleParams    *from);

/* The procedures' setting arguments, after run-mode, image, drawable and
 * style-layer, in the order scripts pass them: positions 1 to
 * ns_restyle_n_args (), each a row of the table or, where ns_restyle_arg
 * gives NULL, the plug-in's own device (ns_restyle_device_choices: the
 * nicks, and the labels to translate).  The first NS_RESTYLE_FIRST_ARGS
 * are plug-in-neural-style's, the first NS_RESTYLE_SECOND_ARGS GIMP 2.10's
 * plug-in-neural-style2's; the others came later and are appended.
 * ns_restyle_n_choices is how many of a choice row's a plug-in offers. */
#define NS_RESTYLE_FIRST_ARGS 12
#define NS_RESTYLE_SECOND_ARGS 19  /* plug-in-neural-style2's (GIMP 2.10) */
gint      ns_restyle_n_args        (void);
const struct ns_setting * ns_restyle_arg (gint position);
const gchar *const * ns_restyle_device_choices (const gchar *const **labels);
gint      ns_restyle_n_choices     (const struct ns_setting  *s);
/* Calls func on every setting a procedure holds: the arguments in their
 * order (NULL for the device), then the rows kept as this machine's own
 * (NS_SETTING_ARG_AUX). */
typedef void (*NsRestyleSettingFunc) (const struct ns_setting *s,
                                      gpointer                 data);
void      ns_restyle_foreach_setting (NsRestyleSettingFunc func,
                                      gpointer             data);

/* The engine's parameters of a run of p (its strings point into p). */
struct ns_params ns_restyle_engine_params (const NsRestyleParams *p);

/* Checks the arguments; a failure is a calling error. */
gboolean  ns_restyle_check_params  (const NsRestyleParams *params,
                                    GError               **error);

/* Style strength, 0-100 (50 = the default balance), is the style weight's
 * ratio to the content weight on a log scale: 25 steps per factor 10. */
gdouble   ns_restyle_strength      (const NsRestyleParams *params);
void      ns_restyle_set_strength  (NsRestyleParams       *params,
                                    gdouble                strength);
NsQuality ns_restyle_quality       (const NsRestyleParams *params);

/* Whether any painting in use has a region; whether one's is the selection
 * (then the selection does not limit the run: the regions do). */
gboolean  ns_restyle_has_regions   (const NsRestyleParams *params);
gboolean  ns_restyle_selection_is_region (const NsRestyleParams *params);

/* The presets' names (ns_preset_names), their translated labels, applying
 * one (a content layer ctx's weights lack falls back to their default; ctx
 * may be NULL), and the one whose settings params has (NULL if none). */
const gchar * ns_restyle_preset_label (const gchar           *name);
void      ns_restyle_apply_preset  (NsRestyleParams       *params,
                                    const gchar           *name,
                                    struct ns_context     *ctx);
const gchar * ns_restyle_preset_of (const NsRestyleParams *params);

/* What the version-specific code learns about the layers it was given. */
typedef struct
{
  gboolean is_layer;          /* a layer was given */
  gboolean in_image;          /* of the photo's image */
  gboolean is_content;        /* the photo itself */
  gboolean empty;
  gint     region;            /* NsRegionChoice */
  gboolean region_usable;     /* the selection is not empty, the layer has
                                 a mask, the channel is the image's */
} NsPaintingFacts;

typedef struct
{
  gboolean content_is_layer;  /* one layer of this image is the content */
  gboolean indexed;           /* the image is indexed */
  gboolean style_is_layer;    /* a style layer was given */
  gboolean style_in_image;    /* ... and it belongs to the same image */
  gboolean same_layer;        /* content and style are one layer */
  gint     content_width;
  gint     content_height;
  gint     style_width;
  gint     style_height;
  gint     n_more;            /* paintings besides the first, in use */
  NsPaintingFacts first;      /* the first painting's region */
  NsPaintingFacts more[NS_MAX_PAINTINGS - 1];
} NsLayerFacts;

/* A calling error (translated) when the layers cannot be used. */
gboolean  ns_restyle_check_layers  (const NsLayerFacts   *facts,
                                    GError              **error);

/* The new layer's name, "Neural Style: <style layer name>" (new string). */
gchar   * ns_restyle_layer_name    (const gchar          *style_name);

/* Opens the engine on the installed weights (NULL and a translated error
 * saying how to install them when they are missing or unusable). */
struct ns_context * ns_restyle_open (gint     device,
                                     GError **error);

/* The longest side a run of params works at for a content of w x h: the
 * size asked for, or for Final the layer's own when it fits in memory, else
 * the largest that does (*capped set). */
gint      ns_restyle_work_size     (struct ns_context     *ctx,
                                    const NsRestyleParams *params,
                                    gint                   w,
                                    gint                   h,
                                    gint                   style_w,
                                    gint                   style_h,
                                    gboolean              *capped);

/* Where the run computes, translated: "the CPU (2 threads)", and when the
 * GPU is not used though it might be, why (NULL if nothing to say). */
gchar   * ns_restyle_device_text   (struct ns_context     *ctx,
                                    gint                   device,
                                    gchar                **why_not_gpu);

/* The dialog's estimate, in Pango markup: the size the photo is restyled
 * at, time and memory on the chosen device, and warnings (the GPU cannot be
 * used, the result will be enlarged so far that it looks soft).  ctx may be
 * NULL (weights missing): then how to install them.  *blocked is set when
 * the run cannot start with these settings. */
gchar   * ns_restyle_estimate      (struct ns_context     *ctx,
                                    const NsRestyleParams *params,
                                    gint                   content_width,
                                    gint                   content_height,
                                    gint                   style_width,
                                    gint                   style_height,
                                    gboolean              *blocked);

/* Restyles `area` of `content` (layer coordinates) after the
 * params->paintings `paintings` (blended by params->blend, or each in its
 * region) and returns the new layer's pixels: a buffer of the content's
 * extent in R'G'B'A float holding the content outside the area and the
 * restyled pixels inside, blended through `mask` (the selection, read at
 * area + mask_offset; NULL = no selection) and through the union of the
 * regions, with the content's alpha: outside them the content's own
 * values.  NULL and an error on failure (NS_RESTYLE_ERROR_CANCELLED when
 * progress returned FALSE). */
GeglBuffer * ns_restyle             (struct ns_context     *ctx,
                                     GeglBuffer            *content,
                                     const GeglRectangle   *area,
                                     GeglBuffer            *mask,
                                     gint                   mask_offset_x,
                                     gint                   mask_offset_y,
                                     const NsPainting      *paintings,
                                     const NsRestyleParams *params,
                                     NsProgressFunc         progress,
                                     gpointer               progress_data,
                                     GError               **error);

/* ---- the dialog's preview ---- */

typedef struct _NsPreviewJob NsPreviewJob;

/* The painting's longest side in a preview, at most (its style pass stays
 * quick; Final on a large photo sizes it larger, so the preview's strokes
 * are then smaller than the result's). */
#define NS_PREVIEW_MAX_STYLE 1024

/* Starts a small restyle in a thread: at most side x side px from the middle
 * of the content, at the size the run works at (work_longest px on the
 * photo's longest side), so that strokes and detail look as in the result,
 * with the current settings (at most max_iterations).  The pixels are read
 * now; the job owns copies of everything it needs. */
NsPreviewJob * ns_preview_start     (struct ns_context     *ctx,
                                     GeglBuffer            *content,
                                     GeglBuffer            *style,
                                     const NsRestyleParams *params,
                                     gint                   work_longest,
                                     gint                   side,
                                     gint                   max_iterations);
/* 0..1 so far; TRUE once the thread has finished. */
gboolean     ns_preview_poll        (NsPreviewJob          *job,
                                     gdouble               *fraction);
/* Waits for the thread (cancelling it when `cancel`) and frees the job;
 * returns the result as 8-bit R'G'B' rows (g_free) of *width x *height, or
 * NULL and an error. */
guchar     * ns_preview_finish      (NsPreviewJob          *job,
                                     gboolean               cancel,
                                     gint                  *width,
                                     gint                  *height,
                                     GError               **error);

G_END_DECLS

#endif /* __NS_RESTYLE_H__ */
