/* keras.h - Keras VGG16/19 "notop" .h5 weights as the engine's layers, for
 * ns-weights import-keras and its fuzz target (tests/fuzz/fuzz_keras.c). */
#ifndef NS_KERAS_H
#define NS_KERAS_H

#include "weights.h"

#include <hdf5.h>

/* Every kernel (HWIO) and bias the layer groups of an open Keras file name
 * through their weight_names attribute, in VGG order up to the first absent
 * group, as w's layers (OIHW; w is filled from scratch).  Every dataset's
 * rank, shape, type and storage is checked before a byte of it is read.  On
 * failure w holds nothing and err says the group or dataset and why, in one
 * line: NS_STATUS_BAD_WEIGHTS, or NS_STATUS_OUT_OF_MEMORY.  Every HDF5
 * handle it opens is closed again.  HDF5's own error printing is the
 * caller's to silence (H5Eset_auto). */
enum ns_status ns_keras_read(hid_t file, struct ns_weights *w, char *err, size_t err_len);

#endif /* NS_KERAS_H */
