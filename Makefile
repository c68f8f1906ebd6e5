# Dango: one non-recursive Makefile.
#   make            build ./dango (installs missing dependencies first)
#   make test       build and run every test (unit + end-to-end)
#   make asan       the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make demo       a project from bundled sample data, and the main job on it
#   make install PREFIX=/usr/local
#   make bench      the benchmarks in bench/

PREFIX   ?= /usr/local
BUILD    ?= build
DUCKDB   := third_party/duckdb
CC       ?= cc
PKGS     := yaml-0.1 jansson libcurl libedit libmicrohttpd libpq libmariadb sqlite3
OPT      ?= -O2 -g
CFLAGS   ?= $(OPT)
WARN     := -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow=local
CPPFLAGS += -D_GNU_SOURCE -Isrc -I$(DUCKDB)/include -MMD -MP
DEPS_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEPS_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# The binary finds libduckdb.so next to itself (installed: ../lib/dango/).
RPATH    := -Wl,-rpath,'$$ORIGIN/$(DUCKDB)/lib' -Wl,-rpath,'$$ORIGIN/../lib/dango'
LDLIBS   += -L$(DUCKDB)/lib -lduckdb $(DEPS_LIBS) -lpthread -lm

SRCS     := $(filter-out $(addsuffix %,$(SRC_EXCLUDE)),$(shell find src -name '*.c' ! -path 'src/main.c' | sort))
PRESETS  := $(sort $(wildcard src/sources/presets/*.yml))
DBT_MACROS := $(sort $(wildcard src/transform/macros/*.sql))
# the lineage page's graph layout, from the npm registry (scripts/install-deps.sh)
WEB_LIBS := third_party/web/dagre.min.js third_party/web/dagre.min.js.LEGAL.txt
WEB_ASSETS := $(sort $(wildcard web/*.html web/*.js web/*.css web/*.svg)) $(WEB_LIBS)
OBJS     := $(SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/presets.o $(BUILD)/gen/dbt_macros.o $(BUILD)/gen/web_assets.o
FIXTURE_SRCS := $(sort $(wildcard tests/fixtures/*.c))
FIXTURE_BINS := $(FIXTURE_SRCS:tests/fixtures/%.c=$(BUILD)/fixtures/%)
UNIT_SRCS:= $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS:= $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
DEPSTAMP := $(DUCKDB)/.version

.PHONY: all deps test unit e2e asan demo install bench clean
all: dango

deps $(DEPSTAMP) $(WEB_LIBS):
	@./scripts/install-deps.sh
# a new pin in the script (another DuckDB version) is fetched by the next make
$(DEPSTAMP): scripts/install-deps.sh

$(BUILD)/%.o: %.c | $(DEPSTAMP)
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(CPPFLAGS) $(DEPS_CFLAGS) $(WARN) $(CFLAGS) -c $< -o $@

# Bundled preset specs (src/sources/presets/*.yml) are compiled into the binary.
$(BUILD)/gen/presets.c: $(PRESETS) scripts/embed.sh
	@mkdir -p $(dir $@)
	@./scripts/embed.sh $@ bundled_presets $(PRESETS)

$(BUILD)/gen/presets.o: $(BUILD)/gen/presets.c
	@echo "  CC  $<"
	@$(CC) $(CFLAGS) -c $< -o $@

# dbt's built-in macros as Dango writes them (src/transform/macros/*.sql).
$(BUILD)/gen/dbt_macros.c: $(DBT_MACROS) scripts/embed.sh
	@mkdir -p $(dir $@)
	@./scripts/embed.sh $@ dbt_builtin_macros $(DBT_MACROS)

$(BUILD)/gen/dbt_macros.o: $(BUILD)/gen/dbt_macros.c
	@echo "  CC  $<"
	@$(CC) $(CFLAGS) -c $< -o $@

# The web page (web/*): embedded into the binary, served by dango web.
$(BUILD)/gen/web_assets.c: $(WEB_ASSETS) scripts/embed-web.sh
	@mkdir -p $(dir $@)
	@./scripts/embed-web.sh $@ $(WEB_ASSETS)

$(BUILD)/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	@echo "  CC  $<"
	@$(CC) $(CFLAGS) -c $< -o $@

# Small programs the tests start (an HTTP API server, ...): tests/fixtures/*.c
$(BUILD)/fixtures/%: tests/fixtures/%.c $(BUILD)/libdango.a | $(DEPSTAMP)
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(CPPFLAGS) $(DEPS_CFLAGS) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libdango.a \
		-Wl,-rpath,'$(CURDIR)/$(DUCKDB)/lib' $(LDLIBS)

$(BUILD)/libdango.a: $(OBJS)
	@rm -f $@
	ar rcsP $@ $^

dango: $(BUILD)/src/main.o $(BUILD)/libdango.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(RPATH) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libdango.a | $(DEPSTAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(DEPS_CFLAGS) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libdango.a \
		-Wl,-rpath,'$(CURDIR)/$(DUCKDB)/lib' $(LDLIBS) -lcmocka

unit-bins: $(UNIT_BINS) $(FIXTURE_BINS)

test: dango unit-bins
	@DANGO_TEST_DEPS=1 ./scripts/install-deps.sh
	@BUILD=$(BUILD) ./tests/run.sh $(T)

# The C unit tests alone (no servers, no end-to-end scripts), and the
# end-to-end scripts alone.
unit: unit-bins
	@BUILD=$(BUILD) ./tests/run.sh test_

e2e: dango unit-bins
	@DANGO_TEST_DEPS=1 ./scripts/install-deps.sh
	@BUILD=$(BUILD) ./tests/run.sh e2e/t

# Sanitizer build in its own folder, so it never mixes with the normal objects.
asan:
	@$(MAKE) --no-print-directory BUILD=build-asan OPT='-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined' \
		LDFLAGS='-fsanitize=address,undefined' DANGO_BIN=build-asan/dango asan-test

asan-test: $(BUILD)/dango unit-bins
	@DANGO_TEST_DEPS=1 ./scripts/install-deps.sh
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
		DANGO=$(CURDIR)/$(BUILD)/dango BUILD=$(BUILD) ./tests/run.sh $(T)

$(BUILD)/dango: $(BUILD)/src/main.o $(BUILD)/libdango.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -Wl,-rpath,'$(CURDIR)/$(DUCKDB)/lib' $(LDLIBS)

demo: dango
	@./scripts/demo.sh

bench: dango unit-bins
	@DANGO_BENCH_DEPS=1 ./scripts/install-deps.sh
	@rm -f bench/out/ratios.tsv; rc=0; for b in bench/*.sh; do case $$b in */lib.sh|*/table.sh) continue;; esac; \
		echo "== $$b"; ./$$b || { rc=1; break; }; done; ./bench/table.sh; exit $$rc

install: dango
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/dango
	install -m 755 dango $(DESTDIR)$(PREFIX)/bin/dango
	install -m 644 $(DUCKDB)/lib/libduckdb.so $(DESTDIR)$(PREFIX)/lib/dango/libduckdb.so

clean:
	rm -rf build build-asan dango

-include $(shell find $(BUILD) build-asan -name '*.d' 2>/dev/null)

# --- fuzzing (libFuzzer; clang): tests/fuzz/fuzz_*.c, seeds in tests/fuzz/corpus/<target>/
#   make fuzz         build build-fuzz/fuzz/fuzz_* (DANGO_FUZZ_DEPS=1 installs clang)
#   make fuzz-smoke   run each target for FUZZ_SECONDS (30) on its corpus
# Not part of `make test` (see docs/reliability.md). Objects are built with
# clang in their own folder; -Werror is left out, as clang warns otherwise.
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 30
.PHONY: fuzz fuzz-bins fuzz-smoke
fuzz:
	@DANGO_FUZZ_DEPS=1 ./scripts/install-deps.sh
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang WARN='-std=c11 -Wall -Wno-unused-parameter' \
		OPT='-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $(FUZZ_SAN)' fuzz-bins

fuzz-bins: $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/libdango.a | $(DEPSTAMP)
	@mkdir -p $(dir $@)
	@echo "  FUZZ $<"
	@$(CC) $(CPPFLAGS) $(DEPS_CFLAGS) $(WARN) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libdango.a \
		-Wl,-rpath,'$(CURDIR)/$(DUCKDB)/lib' $(LDLIBS)

fuzz-smoke: fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) ./tests/fuzz/smoke.sh
