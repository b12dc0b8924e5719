# duet: singing-voice separation, song features and music recommendation in C.
#
#   make            libduet.a and the duet binary (build/)
#   make test       install missing deps, build, run every test program
#   make asan       the same tests under AddressSanitizer + UBSan (build-asan/)
#   make bench      benchmarks against peers (SciPy, PyTorch, gensim, mir_eval)
#   make demo       deps, build, synthesise the example song, run duet on it
#   make deps       apt-get install what is missing (prints the line if not root)
#   make install PREFIX=/usr/local
#
# Sources are found by wildcard: every .c in the library folders goes into
# libduet.a, every cli/*.c into the binary, every tests/test_*.c is a test
# program and every bench/bench_*.c a benchmark program.

VERSION    := 0.1.0
SOVERSION  := 0
PREFIX     ?= /usr/local
CC         ?= cc
PKGS       := fftw3f fftw3 sndfile libmpg123 samplerate openblas libebur128 libpng
DEB_PKGS   := build-essential pkg-config libfftw3-dev libsndfile1-dev libmpg123-dev libsamplerate0-dev \
              libopenblas-dev libebur128-dev libpng-dev libdnnl-dev
# The flags are read when this Makefile is parsed. `make demo` and `make
# test` therefore install the packages first (deps) and build in a sub-make
# that parses the Makefile again; a build without the packages stops here
# with the line to run instead of failing at link time.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
NODEPS_GOALS := deps tools clean uninstall demo test asan bench
ifneq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
ifeq ($(PKG_LIBS),)
$(error build dependencies missing (pkg-config finds no $(PKGS)): run `make deps` (as root) or `sudo apt-get install -y $(DEB_PKGS)`)
endif
# oneDNN (libdnnl-dev) ships no pkg-config file: its header says whether it is there
ifeq ($(wildcard /usr/include/dnnl.h /usr/local/include/dnnl.h),)
$(error build dependency missing (no dnnl.h: oneDNN): run `make deps` (as root) or `sudo apt-get install -y $(DEB_PKGS)`)
endif
endif

WARN       := -Wall -Wextra -pedantic -Wshadow -Wno-unused-parameter -Wno-format-truncation
BASE_CFLAGS := -std=c11 $(WARN) -fopenmp -D_POSIX_C_SOURCE=200809L -DDUET_VERSION=\"$(VERSION)\" \
               -fPIC -I. $(PKG_CFLAGS)
OPT        ?= -O2 -g -march=x86-64-v2
LIBS       := $(PKG_LIBS) -ldnnl -fopenmp -lm -lpthread

LIB_DIRS   := common audio nn separation features recommender
LIB_SRC    := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
CLI_SRC    := $(wildcard cli/*.c)
TEST_SRC   := $(wildcard tests/test_*.c)
BENCH_SRC  := $(wildcard bench/bench_*.c)
HDRS       := $(foreach d,$(LIB_DIRS) cli tests,$(wildcard $(d)/*.h) $(wildcard $(d)/*.def))

B          ?= build
SAN        :=
CFLAGS_ALL  = $(BASE_CFLAGS) $(OPT) $(SAN) $(CFLAGS)

LIB_OBJ    := $(patsubst %.c,$(B)/%.o,$(LIB_SRC)) $(B)/separation/sepnet_blob.o
# The separation model built into the library (separation/sepnet_blob.S).
DUET_BUILTIN_MODEL ?= models/sepnet.safetensors
CLI_OBJ    := $(patsubst %.c,$(B)/%.o,$(CLI_SRC))
TEST_BIN   := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))
BENCH_BIN  := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))

.PHONY: all lib test check asan bench demo demo-run deps deps-check install uninstall clean valgrind fixtures tools peers backing fuzz docs
SONAME     := libduet.so.$(SOVERSION)
all: $(B)/libduet.a $(B)/$(SONAME) $(B)/duet docs
docs: $(B)/duet.1 $(B)/duet.bash $(B)/_duet

$(B)/separation/sepnet_blob.o: separation/sepnet_blob.S $(DUET_BUILTIN_MODEL) Makefile
	@mkdir -p $(dir $@)
	$(CC) -DDUET_BUILTIN_MODEL='"$(DUET_BUILTIN_MODEL)"' -c $< -o $@

$(B)/$(SONAME): $(LIB_OBJ)
	$(CC) $(CFLAGS_ALL) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined -o $(B)/libduet.so.$(VERSION) $^ $(LIBS) $(LDFLAGS)
	ln -sf libduet.so.$(VERSION) $@
	ln -sf libduet.so.$(VERSION) $(B)/libduet.so

# The manual page and the shell completions are made from the binary's own
# --help text (scripts/gen_docs.sh), so they cannot drift from it.
$(B)/duet.1: $(B)/duet scripts/gen_docs.sh
	sh scripts/gen_docs.sh man $(B)/duet $(VERSION) > $@.tmp && mv $@.tmp $@
$(B)/duet.bash: $(B)/duet scripts/gen_docs.sh
	sh scripts/gen_docs.sh bash $(B)/duet $(VERSION) > $@.tmp && mv $@.tmp $@
$(B)/_duet: $(B)/duet scripts/gen_docs.sh
	sh scripts/gen_docs.sh zsh $(B)/duet $(VERSION) > $@.tmp && mv $@.tmp $@

$(B)/%.o: %.c $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/libduet.a: $(LIB_OBJ)
	@mkdir -p $(B)
	rm -f $@
	ar rcs $@ $^

$(B)/duet: $(CLI_OBJ) $(B)/libduet.a
	$(CC) $(CFLAGS_ALL) -o $@ $(CLI_OBJ) $(B)/libduet.a $(LIBS) $(LDFLAGS)

$(B)/tests/%: tests/%.c $(B)/libduet.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/libduet.a $(LIBS) $(LDFLAGS)

$(B)/bench/%: bench/%.c $(B)/libduet.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/libduet.a $(LIBS) $(LDFLAGS)

# Dependencies: install what is missing when root, otherwise print the line.
# $(call apt_install,NAME,PACKAGES,QUIET-IF-PRESENT)
define apt_install
	@missing=""; for p in $(2); do dpkg-query -W -f="\$${Status}" $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then $(if $(3),:,echo "$(1): all present"); \
	elif [ "$$(id -u)" = 0 ]; then echo "$(1): installing$$missing"; \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "$(1): missing packages; run:"; echo "  sudo apt-get install -y$$missing"; exit 1; fi
endef
deps:
	$(call apt_install,deps,$(DEB_PKGS))

# Tools for the demo and for regenerating fixtures (not needed by the tests).
TOOL_PKGS := sox espeak-ng fluidsynth fluid-soundfont-gm
tools:
	$(call apt_install,tools,$(TOOL_PKGS),quiet)

# The peers `make bench` measures against (Debian's /usr/bin/python3 and its
# packages; also what fixtures/ uses to make the golden files).
PEER_PKGS := python3-numpy python3-scipy python3-torch python3-gensim python3-mir-eval python3-soundfile
peers:
	$(call apt_install,peers,$(PEER_PKGS),quiet)

# The MIDI backing tracks train-sep mixes in (scripts/render_backing.py:
# POP909 and Groove MIDI from ../shared/data/midi through fluidsynth and
# these soundfonts; 300 + 300 clips in ~/.cache/duet/backing, ~7 min).
BACKING_PKGS := sox fluidsynth musescore-general-soundfont-small timgm6mb-soundfont avldrums.lv2-soundfont
BACKING_DIR ?= $(HOME)/.cache/duet/backing
backing:
	$(call apt_install,backing,$(BACKING_PKGS),quiet)
	scripts/render_backing.py --out $(BACKING_DIR) --harm 300 --drums 300 --seed 1 -j 2

test: deps
	$(MAKE) --no-print-directory check

TEST_SH    := $(wildcard tests/test_*.sh)
check: all $(TEST_BIN)
	@OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} OPENBLAS_NUM_THREADS=1 DUET=$(B)/duet B=$(B) sh tests/run.sh $(TEST_BIN) $(TEST_SH)

asan: deps
	$(MAKE) TEST_SH= --no-print-directory B=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" check

# The valgrind run (memcheck, full leak check) covers a subset that keeps CI
# short: the parsers and loaders, DSP and word2vec (~1 CPU-minute under
# valgrind; the whole suite takes far longer). VALGRIND_TESTS="$(TEST_BIN)"
# runs everything. tests/valgrind.supp holds suppressions of third-party
# noise (none needed so far).
VALGRIND_TESTS ?= $(addprefix $(B)/tests/,test_common test_safetensors test_stft test_audio test_features \
                  test_word2vec test_w2v_fuzz_regress test_rec_data test_rec_metrics test_rec_fuzz_regress)
valgrind: all $(TEST_BIN)
	@for t in $(VALGRIND_TESTS); do \
	  [ -x $$t ] || continue; \
	  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 ONEDNN_MAX_CPU_ISA=AVX2 DUET=$(B)/duet valgrind -q --error-exitcode=1 --leak-check=full \
	    --errors-for-leak-kinds=definite --suppressions=tests/valgrind.supp $$t >/dev/null || \
	    { echo "valgrind: $$t failed"; exit 1; }; echo "valgrind: $$t clean"; done; echo "valgrind: clean"

bench: deps
	@$(MAKE) --no-print-directory peers
	$(MAKE) --no-print-directory bench-run
bench-run: all $(BENCH_BIN)
	@sh bench/run.sh $(B)

# The demo: synthesise duet's own song (with its true stems), separate it
# with the shipped model, score the stems against the truth, draw the
# spectrograms and describe the song.
demo: deps
	@$(MAKE) --no-print-directory tools
	$(MAKE) --no-print-directory demo-run
demo-run: all
	sh fixtures/make_demo_song.sh fixtures/demo
	$(B)/duet info fixtures/demo/demo_song.wav
	$(B)/duet separate -o out fixtures/demo/demo_song.wav
	$(B)/duet eval-sep --ref fixtures/demo --est out
	$(B)/duet spectrogram fixtures/demo/demo_song.wav --vocals out/demo_song/vocals.wav \
	  --accompaniment out/demo_song/accompaniment.wav -o out/demo_song/spectrogram.png
	$(B)/duet features --vocals out/demo_song/vocals.wav --accompaniment out/demo_song/accompaniment.wav \
	  fixtures/demo/demo_song.wav > out/demo_song/features.json
	@echo "demo: stems, spectrogram.png and features.json written under out/demo_song/"

# Fuzz every parser for FUZZ_SECONDS each (libFuzzer, clang).
FUZZ_SECONDS ?= 60
fuzz:
	sh fuzz/run.sh $(FUZZ_SECONDS)

# install / uninstall: every path install writes is listed once in
# INSTALLED, and uninstall removes exactly those (plus the folders it made
# when they are left empty).
LIBDIR     := $(PREFIX)/lib
INCDIR     := $(PREFIX)/include/duet
MANDIR     := $(PREFIX)/share/man/man1
BASHCOMPDIR := $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR := $(PREFIX)/share/zsh/site-functions
# Installed headers: all but the private ones (*_impl.h: shared between the
# files of one module; separation/dfft.h: BSSEval's FFT plans), which no
# public header includes.
HDR_PRIV   := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*_impl.h)) separation/dfft.h
HDR_PUB    := duet.h $(filter-out $(HDR_PRIV),$(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.h)))
INSTALLED  := $(PREFIX)/bin/duet $(LIBDIR)/libduet.a $(LIBDIR)/libduet.so.$(VERSION) $(LIBDIR)/$(SONAME) \
              $(LIBDIR)/libduet.so $(LIBDIR)/pkgconfig/duet.pc $(MANDIR)/duet.1 $(BASHCOMPDIR)/duet \
              $(ZSHCOMPDIR)/_duet $(addprefix $(INCDIR)/,$(HDR_PUB))
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(MANDIR) \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 $(B)/duet $(DESTDIR)$(PREFIX)/bin/duet
	install -m 644 $(B)/libduet.a $(DESTDIR)$(LIBDIR)/libduet.a
	install -m 755 $(B)/libduet.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libduet.so.$(VERSION)
	ln -sf libduet.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf libduet.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libduet.so
	for h in $(HDR_PUB); do install -D -m 644 $$h $(DESTDIR)$(INCDIR)/$$h || exit 1; done
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@REQUIRES@|$(PKGS)|' duet.pc.in \
	  > $(DESTDIR)$(LIBDIR)/pkgconfig/duet.pc
	install -m 644 $(B)/duet.1 $(DESTDIR)$(MANDIR)/duet.1
	install -m 644 $(B)/duet.bash $(DESTDIR)$(BASHCOMPDIR)/duet
	install -m 644 $(B)/_duet $(DESTDIR)$(ZSHCOMPDIR)/_duet

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-for d in $(sort $(dir $(addprefix $(DESTDIR)$(INCDIR)/,$(HDR_PUB)))) $(DESTDIR)$(INCDIR); do rmdir $$d 2>/dev/null; done; true

clean:
	rm -rf build build-asan out
