# Neural Style for GIMP - build, test, benchmark.
#   make            engine library, build/neural-style, build/ns-weights
#   make test       every test (unit, sanitizers, real weights, PyTorch reference, GIMP)
#   make bench      CPU benchmark against PyTorch (writes build/bench/)
#   make bench-gpu  GPU benchmark against PyTorch on the same GPU
#   make CUDA=0     build without the CUDA backend

BUILD   ?= build
CC      ?= cc
PKG     ?= pkg-config
PYTHON  ?= /usr/bin/python3
# babl's pkg-config name changed from "babl" to "babl-0.1"
BABL_PC := $(shell $(PKG) --exists babl-0.1 && echo babl-0.1 || echo babl)

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
OPT     ?= -O2 -g
CFLAGS  += -std=gnu11 $(OPT) $(WARN) -fPIC -fopenmp -D_GNU_SOURCE
ENGINE_PC := glib-2.0 json-glib-1.0 $(BABL_PC) openblas libprotobuf-c
ENGINE_CFLAGS := $(shell $(PKG) --cflags $(ENGINE_PC)) -I$(BUILD)/gen
ENGINE_LIBS   := $(shell $(PKG) --libs $(ENGINE_PC)) -fopenmp -ldl -lm
# ONNX import: protoc-c generates the parser from the onnx.proto that
# libonnx-dev ships (./install.sh installs both)
PROTOC_C   ?= protoc-c
ONNX_PROTO ?= $(firstword $(wildcard /usr/include/onnx/onnx.proto))
# the command line's image files: each format through its own library
CLI_IO_PC     := libpng libtiff-4 libwebp gexiv2
CLI_IO_CFLAGS := $(shell $(PKG) --cflags $(CLI_IO_PC) 2>/dev/null) -I/usr/include/OpenEXR
CLI_IO_LIBS   := $(shell $(PKG) --libs $(CLI_IO_PC) 2>/dev/null) -lOpenEXRCore -lgif -ljpeg
GEGL_CFLAGS   := $(shell $(PKG) --cflags gegl-0.4 2>/dev/null)
GEGL_LIBS     := $(shell $(PKG) --libs gegl-0.4 2>/dev/null)
HDF5_CFLAGS   := $(shell $(PKG) --cflags hdf5 2>/dev/null)
HDF5_LIBS     := $(shell $(PKG) --libs hdf5 2>/dev/null)

# CUDA backend: a shared object the engine opens at run time (engine/context.c),
# built when nvcc and cuDNN are found; `make CUDA=0` leaves it out.
CUDA      ?= 1
CUDA_HOME ?= /usr/local/cuda
NVCC      ?= $(CUDA_HOME)/bin/nvcc
CUDNN_H   := $(firstword $(wildcard $(CUDA_HOME)/include/cudnn.h /usr/include/cudnn.h /usr/include/x86_64-linux-gnu/cudnn.h))
HAVE_CUDA := $(if $(filter 1,$(CUDA)),$(if $(CUDNN_H),$(shell test -x $(NVCC) && echo 1)))
# Turing to Hopper as machine code, plus PTX that newer GPUs compile on load
CUDA_ARCHS ?= 75 80 86 89 90
NVCC_FLAGS := -O3 -std=c++17 -Iengine -Xcompiler -fPIC,-fvisibility=hidden,-Wall,-Wextra,-Wno-unused-parameter \
              $(foreach a,$(CUDA_ARCHS),-gencode arch=compute_$(a),code=sm_$(a)) -gencode arch=compute_90,code=compute_90
CUDA_SRC  := $(wildcard cuda/*.cu)
# The same sources compiled for the host against the real headers, with the
# runtime, cuDNN and cuBLAS emulated (tests/cuda_emu): test_cuda without a GPU.
CXX       ?= g++
HAVE_CUDA_HEADERS := $(if $(filter 1,$(CUDA)),$(if $(CUDNN_H),$(wildcard $(CUDA_HOME)/include/cuda_runtime.h)))
EMU_SRC   := $(wildcard tests/cuda_emu/*.cpp)
LIBNS_EMU := $(if $(and $(HAVE_CUDA_HEADERS),$(filter x86_64,$(shell uname -m))),$(BUILD)/libns-cuda-emu.so)
CUDA_OBJ  := $(CUDA_SRC:%.cu=$(BUILD)/%.o)
LIBNS_CUDA := $(if $(HAVE_CUDA),$(BUILD)/libns-cuda.so)

ENGINE_SRC := $(wildcard engine/*.c)
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/onnx.pb-c.o
LIBNS      := $(BUILD)/libns.a

CLI_SRC := $(wildcard cli/*.c)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)

UNIT_TESTS := $(filter-out test_cuda,$(patsubst tests/%.c,%,$(wildcard tests/test_*.c)))

# GIMP plug-ins: one binary per GIMP version found by pkg-config
GIMP2_PC := $(shell $(PKG) --exists gimpui-2.0 && echo gimpui-2.0)
GIMP3_PC := $(shell $(PKG) --exists gimpui-3.0 && echo gimpui-3.0)
PLUGIN_COMMON := $(filter-out plugin/gimp2%.c plugin/gimp3%.c,$(wildcard plugin/*.c))
PLUGIN_GIMP2  := $(wildcard plugin/gimp2*.c)
PLUGIN_GIMP3  := $(wildcard plugin/gimp3*.c)
PLUGINS := $(if $(GIMP2_PC),$(BUILD)/plugin/gimp2/neural-style) $(if $(GIMP3_PC),$(BUILD)/plugin/gimp3/neural-style)
LANGS   := $(basename $(notdir $(wildcard po/*.po)))
MO      := $(LANGS:%=$(BUILD)/locale/%/LC_MESSAGES/gimp-neural-style.mo)

.PHONY: plugins all clean bench-conv bench-estimates bench-preview bench-fast bench-train bench-warm bench-styles bench-gpu bench-full bench-photo pictures examples test test-deps test-unit test-cuda test-cuda-emu test-asan test-fuzz test-weights test-ref test-cli test-gimp test-po update-po bench
all: $(LIBNS) $(BUILD)/neural-style $(BUILD)/ns-weights $(LIBNS_CUDA)

$(BUILD)/cuda/%.o: cuda/%.cu cuda/*.h engine/backend.h engine/ns.h | $(BUILD)/cuda
	$(NVCC) $(NVCC_FLAGS) -c $< -o $@

$(BUILD)/libns-cuda-emu.so: $(CUDA_SRC) $(EMU_SRC) tests/cuda_emu/*.h cuda/*.h engine/backend.h engine/ns.h | $(BUILD)
	$(CXX) -std=c++17 -O2 -g -fPIC -shared -fvisibility=hidden -Wall -Wextra -Wno-unused-parameter \
	    -Wno-deprecated-declarations -I$(CUDA_HOME)/include -I$(dir $(CUDNN_H)) -Iengine -Itests/cuda_emu \
	    -include tests/cuda_emu/emu.h -x c++ $(CUDA_SRC) -x none $(EMU_SRC) \
	    $(shell $(PKG) --cflags --libs openblas) -Wl,-z,defs -o $@

$(BUILD)/libns-cuda.so: $(CUDA_OBJ)
	$(NVCC) -shared -o $@ $^ -L$(CUDA_HOME)/lib64 -lcudnn -lcublas -Xlinker -rpath,$(CUDA_HOME)/lib64

$(BUILD)/engine/%.o: engine/%.c engine/*.h $(BUILD)/gen/onnx.pb-c.h | $(BUILD)/engine
	$(CC) $(CFLAGS) $(ENGINE_CFLAGS) -c $< -o $@
# Winograd's transforms are loops along a row that only -O3's vectoriser takes
$(BUILD)/engine/winograd.o: CFLAGS += -O3

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: $(ONNX_PROTO)
	@[ -n "$(ONNX_PROTO)" ] || { echo "onnx.proto not found: install libonnx-dev, protobuf-c-compiler and libprotobuf-c-dev (./install.sh does)"; exit 1; }
	mkdir -p $(BUILD)/gen
	$(PROTOC_C) --c_out=$(BUILD)/gen -I$(dir $(ONNX_PROTO)) $(ONNX_PROTO)

$(BUILD)/gen/onnx.pb-c.o: $(BUILD)/gen/onnx.pb-c.c $(BUILD)/gen/onnx.pb-c.h
	$(CC) $(filter-out $(WARN),$(CFLAGS)) $(ENGINE_CFLAGS) -c $< -o $@

# made afresh: an object whose source was renamed or removed must not stay in it
$(LIBNS): $(ENGINE_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/cli/%.o: cli/%.c cli/*.h engine/ns.h | $(BUILD)/cli
	$(CC) $(CFLAGS) -Iengine $(ENGINE_CFLAGS) $(CLI_IO_CFLAGS) -c $< -o $@

$(BUILD)/neural-style: $(CLI_OBJ) $(LIBNS)
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(LIBNS) $(CLI_IO_LIBS) $(ENGINE_LIBS)

# ns-weights reads a painting for a style's thumbnail with the command line's decoders
NS_WEIGHTS_IO := $(filter-out $(BUILD)/cli/neural-style.o $(BUILD)/cli/train.o,$(CLI_OBJ))
$(BUILD)/ns-weights: weights/ns-weights.c weights/keras.c weights/keras.h $(NS_WEIGHTS_IO) $(LIBNS) | $(BUILD)
	$(CC) $(CFLAGS) -Iengine -Icli $(HDF5_CFLAGS) $(ENGINE_CFLAGS) $(CLI_IO_CFLAGS) -o $@ weights/ns-weights.c \
	    weights/keras.c $(NS_WEIGHTS_IO) $(LIBNS) $(HDF5_LIBS) $(CLI_IO_LIBS) $(ENGINE_LIBS)

$(BUILD)/tests/%: tests/%.c tests/*.h $(LIBNS) | $(BUILD)/tests
	$(CC) $(CFLAGS) -Iengine $(ENGINE_CFLAGS) -o $@ $< $(LIBNS) $(ENGINE_LIBS)

# the plug-ins' shared code (settings, estimate, preview) with GEGL, without GIMP
# (training runs the command line built beside it)
$(BUILD)/tests/test_plugin: tests/test_plugin.c tests/*.h plugin/params.c plugin/restyle.c plugin/estimate.c plugin/preview.c \
                            plugin/remember.c plugin/fast.c plugin/train.c plugin/*.h $(LIBNS) $(BUILD)/neural-style | $(BUILD)/tests
	$(CC) $(CFLAGS) -Iengine -Iplugin $(ENGINE_CFLAGS) $(GEGL_CFLAGS) -o $@ tests/test_plugin.c \
	    plugin/params.c plugin/restyle.c plugin/estimate.c plugin/preview.c plugin/remember.c plugin/fast.c plugin/train.c $(LIBNS) \
	    $(GEGL_LIBS) $(ENGINE_LIBS)

# the plug-ins' decisions on the layer stack, without GIMP
$(BUILD)/tests/test_layers: tests/test_layers.c tests/*.h plugin/layers.c plugin/layers.h | $(BUILD)/tests
	$(CC) $(CFLAGS) -Iplugin -Iengine $(shell $(PKG) --cflags glib-2.0) -o $@ tests/test_layers.c plugin/layers.c \
	    $(shell $(PKG) --libs glib-2.0) -lm

plugins: $(PLUGINS) $(MO)

$(BUILD)/plugin/gimp2/neural-style: $(PLUGIN_GIMP2) $(PLUGIN_COMMON) plugin/*.h $(LIBNS)
	mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-deprecated-declarations -Wno-strict-prototypes -Iengine -Iplugin $(shell $(PKG) --cflags $(GIMP2_PC) gegl-0.4) \
	    -o $@ $(PLUGIN_GIMP2) $(PLUGIN_COMMON) $(LIBNS) $(shell $(PKG) --libs $(GIMP2_PC) gegl-0.4) $(ENGINE_LIBS)

$(BUILD)/plugin/gimp3/neural-style: $(PLUGIN_GIMP3) $(PLUGIN_COMMON) plugin/*.h $(LIBNS)
	mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-ignored-qualifiers -Iengine -Iplugin $(shell $(PKG) --cflags $(GIMP3_PC) gegl-0.4) \
	    -o $@ $(PLUGIN_GIMP3) $(PLUGIN_COMMON) $(LIBNS) $(shell $(PKG) --libs $(GIMP3_PC) gegl-0.4) $(ENGINE_LIBS)

# Translations: `make update-po` after changing a user-visible string, then
# translate what msgmerge marks; `make test-po` fails while anything is stale.
XGETTEXT := xgettext --from-code=UTF-8 --keyword=_ --keyword=N_ --keyword=NS_N_ --keyword=g_dngettext:2,3 --add-comments=TRANSLATORS \
            --package-name=gimp-neural-style --msgid-bugs-address=neural-style@users.noreply.example
update-po:
	$(XGETTEXT) -o po/gimp-neural-style.pot $(sort $(wildcard plugin/*.c)) engine/settings.c
	for l in $(LANGS); do msgmerge --quiet --update --backup=none po/$$l.po po/gimp-neural-style.pot; done

test-po: $(MO)
	@bash tests/check_po.sh "$(XGETTEXT)" $(BUILD)

$(BUILD)/locale/%/LC_MESSAGES/gimp-neural-style.mo: po/%.po
	mkdir -p $(dir $@)
	msgfmt --check -o $@ $<

$(BUILD)/bench/bench: tests/bench/bench.c tests/bench/bench.h tests/*.h $(LIBNS) | $(BUILD)/bench
	$(CC) $(CFLAGS) -Iengine $(ENGINE_CFLAGS) -o $@ $< $(LIBNS) $(ENGINE_LIBS)

$(BUILD)/bench/conv: tests/bench/conv.c tests/bench/bench.h tests/*.h $(LIBNS) | $(BUILD)/bench
	$(CC) $(CFLAGS) -Iengine $(ENGINE_CFLAGS) -o $@ $< $(LIBNS) $(ENGINE_LIBS)

# the CPU's 3 x 3 convolutions per layer shape, direct against Winograd
# (about 1 min): docs/engine.md's table, and what ns_wino_pays chooses
bench-conv: $(BUILD)/bench/conv
	@$(BUILD)/bench/conv | tee $(BUILD)/bench/conv.md

$(BUILD)/bench/estimates: tests/bench/estimates.c tests/bench/bench.h $(LIBNS) | $(BUILD)/bench
	$(CC) $(CFLAGS) -Iengine $(ENGINE_CFLAGS) -o $@ $< $(LIBNS) $(ENGINE_LIBS)

# the dialog's time estimates against measured runs, idle and busy (about
# 25 min), and the preview's seconds (about 1 min); docs/plugin.md's tables
bench-estimates: all $(BUILD)/bench/estimates
	@bash tests/bench/estimates.sh $(BUILD) estimates
bench-preview: all $(BUILD)/bench/estimates
	@bash tests/bench/estimates.sh $(BUILD) preview
$(BUILD)/bench/fast_preview: tests/bench/fast_preview.c tests/bench/bench.h $(LIBNS) | $(BUILD)/bench
	$(CC) $(CFLAGS) -Iengine $(ENGINE_CFLAGS) -o $@ $< $(LIBNS) $(ENGINE_LIBS)

# a fast style on rainier at 512 px, 2.8 MP and 24 MP, the engine beside
# PyTorch, and Neural Style (Fast)'s preview (about 12 min)
bench-fast: all $(BUILD)/bench/fast_preview
	@bash tests/bench/fast.sh $(BUILD) $(PYTHON)

# one training step of a fast style against PyTorch's (build/bench/train.txt)
bench-train: all
	@bash tests/bench/train.sh $(BUILD) $(PYTHON)

# The exact method from a fast style's result against from the photo, at
# 512 px and 2 MP (about 25 minutes with the style's training)
bench-warm: all
	@bash tests/bench/warm.sh $(BUILD) $(PYTHON)

bench-styles: all
	@bash tests/bench/styles.sh $(BUILD) $(PYTHON)

$(BUILD) $(BUILD)/engine $(BUILD)/cli $(BUILD)/tests $(BUILD)/bench $(BUILD)/cuda:
	mkdir -p $@

# ---- tests ----
TEST_STEPS := test-deps all plugins test-unit test-cuda test-cuda-emu test-asan test-fuzz test-po test-weights \
              test-ref test-cli test-gimp
test:
	@bash tests/run_steps.sh "$(MAKE)" $(TEST_STEPS)

# what only the tests need (PyTorch, debootstrap, Xvfb, xdotool...): installed here, not by install.sh
test-deps:
	@bash tests/install-deps.sh

test-unit: $(UNIT_TESTS:%=$(BUILD)/tests/%)
	@for t in $^; do echo "== $$t"; $$t || exit 1; done

# The CUDA backend against the CPU; skips where no GPU (or no libns-cuda.so) is.
test-cuda: all $(BUILD)/tests/test_cuda
	@NS_CUDA_LIBRARY=$(LIBNS_CUDA) $(BUILD)/tests/test_cuda $(wildcard ../shared/weights/vgg19-conv1_1-conv3_4.safetensors)

# The same test with the GPU emulated on the host: the backend's own code
# (kernels, reductions, bf16, algorithm choice, every pointer and size handed
# to CUDA, cuDNN, cuBLAS) runs everywhere the CUDA headers are.
test-cuda-emu: all $(BUILD)/tests/test_cuda $(LIBNS_EMU)
	@if [ -z "$(LIBNS_EMU)" ]; then echo "SKIP test-cuda-emu: CUDA=0, no CUDA/cuDNN headers, or not x86-64"; else \
	    NS_CUDA_LIBRARY=$(LIBNS_EMU) $(BUILD)/tests/test_cuda $(wildcard ../shared/weights/vgg19-conv1_1-conv3_4.safetensors); fi

# The unit tests again, built with AddressSanitizer and UBSan.
test-asan:
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" test-unit

# the weights loader, the Keras importer and the command line's image
# decoders under libFuzzer, FUZZ_SECONDS shared between them;
# FUZZ_SECONDS=600 for a longer look
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iengine
test-fuzz: $(BUILD)/fuzz/write_seeds $(BUILD)/neural-style $(BUILD)/gen/onnx.pb-c.c
	@if $(FUZZ_CC) $(FUZZ_FLAGS) $(ENGINE_CFLAGS) -o $(BUILD)/fuzz/fuzz_weights tests/fuzz/fuzz_weights.c \
	    engine/weights.c engine/safetensors.c $(shell $(PKG) --libs json-glib-1.0) -lm 2>$(BUILD)/fuzz/build.log; then :; \
	else rm -f $(BUILD)/fuzz/fuzz_weights; tail -3 $(BUILD)/fuzz/build.log; fi
	@if $(FUZZ_CC) $(FUZZ_FLAGS) -Iweights $(HDF5_CFLAGS) $(ENGINE_CFLAGS) -o $(BUILD)/fuzz/fuzz_keras \
	    tests/fuzz/fuzz_keras.c weights/keras.c engine/weights.c engine/safetensors.c $(HDF5_LIBS) $(shell $(PKG) --libs json-glib-1.0) \
	    -lm 2>$(BUILD)/fuzz/build-keras.log; then :; \
	else rm -f $(BUILD)/fuzz/fuzz_keras; tail -3 $(BUILD)/fuzz/build-keras.log; fi
	@if $(FUZZ_CC) $(FUZZ_FLAGS) -D_GNU_SOURCE -DIO_MAX_MEGAPIXELS=4 -Icli $(ENGINE_CFLAGS) $(CLI_IO_CFLAGS) \
	    -o $(BUILD)/fuzz/fuzz_images tests/fuzz/fuzz_images.c $(filter-out cli/neural-style.c cli/train.c,$(CLI_SRC)) engine/file.c \
	    $(CLI_IO_LIBS) $(shell $(PKG) --libs glib-2.0 $(BABL_PC)) -lm 2>$(BUILD)/fuzz/build-images.log; then :; \
	else rm -f $(BUILD)/fuzz/fuzz_images; tail -3 $(BUILD)/fuzz/build-images.log; fi
	@if $(FUZZ_CC) $(FUZZ_FLAGS) -D_GNU_SOURCE $(ENGINE_CFLAGS) -o $(BUILD)/fuzz/fuzz_styles tests/fuzz/fuzz_styles.c \
	    engine/onnx_import.c engine/onnx_fold.c engine/style_model.c engine/safetensors.c engine/safetensors_save.c \
	    engine/file.c $(BUILD)/gen/onnx.pb-c.c $(shell $(PKG) --libs json-glib-1.0 libprotobuf-c) -lm \
	    2>$(BUILD)/fuzz/build-styles.log; then :; \
	else rm -f $(BUILD)/fuzz/fuzz_styles; tail -3 $(BUILD)/fuzz/build-styles.log; fi
	@PYTHON=$(PYTHON) bash tests/fuzz/run.sh $(BUILD) $(FUZZ_SECONDS)

$(BUILD)/fuzz/write_seeds: tests/fuzz/write_seeds.c tests/fuzz/keras_recipe.h tests/testlib.h $(LIBNS)
	mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iengine $(ENGINE_CFLAGS) -o $@ $< $(LIBNS) $(ENGINE_LIBS)

test-weights: all
	@bash tests/run_weights_tests.sh $(BUILD)

test-ref: all $(BUILD)/tests/train_step
	@bash tests/run_reference_tests.sh $(BUILD) $(PYTHON)

test-cli: all $(LIBNS_EMU)
	@bash tests/run_cli_tests.sh $(BUILD)
	@bash tests/run_io_tests.sh $(BUILD)

test-gimp: all plugins
	@bash tests/gimp/run_gimp_tests.sh $(BUILD) all

# the engine against PyTorch, then the full-resolution rows (bench-full)
bench: all $(BUILD)/bench/bench
	@bash tests/bench/run.sh $(BUILD) $(PYTHON)
	@bash tests/bench/full_res.sh $(BUILD) $(PYTHON)

# the README's and the help's pictures (docs/images) from ../shared/examples
pictures: all plugins
	@bash tests/pictures.sh $(BUILD)

# the README's side-by-side pictures of each preset and option (docs/images/examples)
examples: all
	@bash tests/examples.sh $(BUILD)

# what a photographer waits for: Draft and Final on a 2.8 MP and a 24 MP photo
bench-photo: all $(BUILD)/bench/bench
	@bash tests/bench/photo_times.sh $(BUILD)

# full resolution per coarse-to-fine level: seconds, peak RSS, tiles (NS_BENCH_24MP=1 adds 24 MP)
bench-full: all $(BUILD)/bench/bench
	@bash tests/bench/full_res.sh $(BUILD) $(PYTHON)

# GPU benchmark against PyTorch on the same GPU (python3 with CUDA PyTorch)
GPU_PYTHON ?= python3
bench-gpu: all $(BUILD)/bench/bench
	@bash tests/bench/run_gpu.sh $(BUILD) $(GPU_PYTHON)

clean:
	rm -rf $(BUILD)
