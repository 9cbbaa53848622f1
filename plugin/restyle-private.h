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

G_END_DECLS

#endif /* __NS_RESTYLE_PRIVATE_H__ */
