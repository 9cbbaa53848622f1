/* remember.h - the dialog's settings kept between GIMP sessions, in a key
 * file, for both GIMP versions (GIMP 2.10's gimp_set_data lasts one
 * session only).
 */
#ifndef __NS_REMEMBER_H__
#define __NS_REMEMBER_H__

#include "fast.h"
#include "restyle.h"

G_BEGIN_DECLS

/* The key file's name in GIMP's profile folder (gimp_directory ()) */
#define NS_REMEMBER_FILE "neural-style-settings.ini"

/* Writes p to path: every row of the table of settings by its name
 * (choices by their names), then device, paintings, blend and region.
 * The file is replaced whole or not at all (ns_write_file): a full disk
 * leaves the old one.  FALSE and a translated error on failure. */
gboolean ns_remember_save (const NsRestyleParams *p,
                           const gchar           *path,
                           GError               **error);

/* Reads path into p: each setting found and valid replaces p's, the others
 * (missing, out of range, from a newer version) keep p's value.  FALSE
 * when the file cannot be read at all (p untouched). */
gboolean ns_remember_load (NsRestyleParams       *p,
                           const gchar           *path);

/* A table's rows by name (fast.h), in a group of a file of their own: Neural Style
 * (Fast)'s and Train Neural Style's (GIMP 2.10; GIMP 3's config keeps
 * them).  Loading, each row found and within its range replaces params'. */
#define NS_REMEMBER_FAST_FILE  "neural-style-fast-settings.ini"
#define NS_REMEMBER_TRAIN_FILE "neural-style-train-settings.ini"
#define NS_REMEMBER_FAST_GROUP "fast"
#define NS_REMEMBER_TRAIN_GROUP "train"

gboolean ns_remember_rows_save (const NsFastSetting   *rows,
                                gint                   n,
                                gconstpointer          params,
                                const gchar           *group,
                                const gchar           *comment,
                                const gchar           *path,
                                GError               **error);
gboolean ns_remember_rows_load (const NsFastSetting   *rows,
                                gint                   n,
                                gpointer               params,
                                const gchar           *group,
                                const gchar           *path);

G_END_DECLS

#endif /* __NS_REMEMBER_H__ */
