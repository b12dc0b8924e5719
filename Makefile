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
PREFIX     ?= /usr/local
CC         ?= cc
PKGS       := fftw3f sndfile samplerate openblas libebur128 libpng
DEB_PKGS   := build-essential pkg-config libfftw3-dev libsndfile1-dev libsamplerate0-dev \
              libopenblas-dev libebur128-dev libpng-dev
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN       := -Wall -Wextra -pedantic -Wshadow -Wno-unused-parameter -Wno-format-truncation
DATADIR    := $(PREFIX)/share/duet
BASE_CFLAGS := -std=c11 $(WARN) -fopenmp -D_POSIX_C_SOURCE=200809L -DDUET_VERSION=\"$(VERSION)\" \
               -DDUET_DATADIR=\"$(DATADIR)\" \
               -I. $(PKG_CFLAGS)
OPT        ?= -O2 -g -march=x86-64-v2
LIBS       := $(PKG_LIBS) -fopenmp -lm -lpthread

LIB_DIRS   := common audio nn separation features recommender
LIB_SRC    := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
CLI_SRC    := $(wildcard cli/*.c)
TEST_SRC   := $(wildcard tests/test_*.c)
BENCH_SRC  := $(wildcard bench/bench_*.c)
HDRS       := $(foreach d,$(LIB_DIRS) cli tests,$(wildcard $(d)/*.h) $(wildcard $(d)/*.def))

B          ?= build
SAN        :=
CFLAGS_ALL  = $(BASE_CFLAGS) $(OPT) $(SAN) $(CFLAGS)

LIB_OBJ    := $(patsubst %.c,$(B)/%.o,$(LIB_SRC))
CLI_OBJ    := $(patsubst %.c,$(B)/%.o,$(CLI_SRC))
TEST_BIN   := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))
BENCH_BIN  := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))

.PHONY: all lib test check asan bench demo deps deps-check install uninstall clean valgrind fixtures tools fuzz
all: $(B)/libduet.a $(B)/duet

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
deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "deps: all present"; \
	elif [ "$$(id -u)" = 0 ]; then echo "deps: installing$$missing"; \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "deps: missing packages; run:"; echo "  sudo apt-get install -y$$missing"; exit 1; fi

# Tools for the demo and for regenerating fixtures (not needed by the tests).
TOOL_PKGS := sox espeak-ng fluidsynth fluid-soundfont-gm
tools:
	@missing=""; for p in $(TOOL_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then echo "tools: installing$$missing"; \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "tools: missing packages; run:"; echo "  sudo apt-get install -y$$missing"; exit 1; fi

test: deps
	$(MAKE) --no-print-directory check

check: all $(TEST_BIN)
	@OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} OPENBLAS_NUM_THREADS=1 DUET=$(B)/duet sh tests/run.sh $(TEST_BIN)

asan: deps
	$(MAKE) --no-print-directory B=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
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
	  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 DUET=$(B)/duet valgrind -q --error-exitcode=1 --leak-check=full \
	    --errors-for-leak-kinds=definite --suppressions=tests/valgrind.supp $$t >/dev/null || \
	    { echo "valgrind: $$t failed"; exit 1; }; echo "valgrind: $$t clean"; done; echo "valgrind: clean"

bench: deps all $(BENCH_BIN)
	@sh bench/run.sh $(B)

# The demo: synthesise duet's own song (with its true stems), separate it
# with the shipped model, score the stems against the truth, draw the
# spectrograms and describe the song.
demo: deps tools all
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

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/duet
	install -m 755 $(B)/duet $(DESTDIR)$(PREFIX)/bin/duet
	install -m 644 $(B)/libduet.a $(DESTDIR)$(PREFIX)/lib/libduet.a
	for d in common audio nn separation features recommender; do \
	  install -d $(DESTDIR)$(PREFIX)/include/duet/$$d; \
	  for h in $$d/*.h; do [ -f "$$h" ] && install -m 644 $$h $(DESTDIR)$(PREFIX)/include/duet/$$d/; done; done
	install -m 644 duet.h $(DESTDIR)$(PREFIX)/include/duet/duet.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@REQUIRES@|$(PKGS)|' duet.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/duet.pc
	install -d $(DESTDIR)$(DATADIR)
	install -m 644 models/sepnet.safetensors $(DESTDIR)$(DATADIR)/sepnet.safetensors
	if [ -f docs/duet.1 ]; then install -d $(DESTDIR)$(PREFIX)/share/man/man1 && \
	  install -m 644 docs/duet.1 $(DESTDIR)$(PREFIX)/share/man/man1/duet.1; fi

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/bin/duet $(DESTDIR)$(PREFIX)/lib/libduet.a $(DESTDIR)$(PREFIX)/include/duet $(DESTDIR)$(DATADIR) \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/duet.pc $(DESTDIR)$(PREFIX)/share/man/man1/duet.1

clean:
	rm -rf build build-asan out
