/* restyle-private.h - what restyle.c, estimate.c and preview.c share. */
#ifndef __NS_RESTYLE_PRIVATE_H__
#define __NS_RESTYLE_PRIVATE_H__

#include "ns.h"
#include "restyle.h"

G_BEGIN_DECLS


/* "about 4 min" (translated) for seconds >= 0, "--" when unknown. */
void             ns_restyle_format_duration (gdouble                seconds,
                                             gchar                 *buf,
                                             gsize                  len);

/* Remembers how long a run of `work` took on ctx's backend, for the next
 * estimates (the last few runs are kept).  The file is replaced whole
 * (ns_write_file) or not at all: when it cannot be written, the old one
 * stays as it was and the timing is dropped with only a g_debug. */
void             ns_restyle_record_timing   (struct ns_context     *ctx,
                                             struct ns_work         work,
                                             gdouble                seconds);
/* a preview's: kept apart, used only until a run has been timed */
void             ns_restyle_record_preview_timing (struct ns_context *ctx,
                                                   struct ns_work     work,
                                                   gdouble            seconds);

/* A painting's R'G'B'A pixels (g_free the data), its fully transparent
 * border cut off. */
struct ns_image  ns_restyle_read_painting   (GeglBuffer            *buffer);

/* At most w x h px from the middle of buffer scaled by `scale`, as R'G'B'A
 * (channels 4) or R'G'B' (3) float (g_free the data). */
struct ns_image  ns_restyle_read_middle     (GeglBuffer            *buffer,
                                             gdouble                scale,
                                             gint                   w,
                                             gint                   h,
                                             gint                   channels);

/* area of buffer as R'G'B'A float (g_free), NULL when memory is short. */
gfloat         * ns_restyle_read_rgba       (GeglBuffer            *buffer,
                                             const GeglRectangle   *rect);

/* A copy of content with area replaced by styled, through the selection
 * mask where there is one and the regions' union where there are regions
 * (area-sized, NULL = none): where either is 0, the content's own values;
 * the alpha stays the content's (pixels: area's own RGBA). */
GeglBuffer     * ns_restyle_compose         (GeglBuffer            *content,
                                             const GeglRectangle   *area,
                                             GeglBuffer            *styled,
                                             const gfloat          *pixels,
                                             GeglBuffer            *mask,
                                             gint                   mask_offset_x,
                                             gint                   mask_offset_y,
                                             const gfloat          *regions);

G_END_DECLS

#endif /* __NS_RESTYLE_PRIVATE_H__ */
