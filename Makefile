EXTENSION = custfocus
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" custfocus.control)

MODULE_big = custfocus
OBJS = $(patsubst %.c,%.o,$(wildcard src/*.c))
PG_CPPFLAGS = -I$(srcdir)/src
SHLIB_LINK += -lcsv

# The install script of the current version is built from its sources in
# src/sql/, one file per concern, concatenated in this order (each may use what
# the ones before it create); the scripts of released versions and the upgrade
# scripts are committed as is.
INSTALL_SQL = $(addprefix src/sql/, model.sql rules.sql access.sql scales.sql \
	import.sql backup.sql scoring.sql rollup.sql views.sql scoring_views.sql published.sql reports.sql \
	distribute.sql)
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))

REGRESS = $(shell sed -e 's/\#.*//' test/schedule)
REGRESS_OPTS = --inputdir=. --load-extension=plpgsql

EXTRA_CLEAN = $(DATA_built) .pg_version

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_SQL)
	cat $^ >$@

# PGXS does not track header dependencies; every object depends on them all,
# and on the PostgreSQL it was compiled against: objects of another major
# must not be linked into this one (test/setup.sh switches with PG_CONFIG).
# The stamp is rewritten while the Makefile is read, when it names another
# PostgreSQL: a rule with a FORCE prerequisite would never run, since PGXS
# declares every target .SECONDARY.
$(OBJS): $(wildcard src/*.h) .pg_version
PG_VERSION_STAMP := $(shell $(PG_CONFIG) --version) $(shell $(PG_CONFIG) --includedir-server)
ifneq ($(shell cat .pg_version 2>/dev/null),$(PG_VERSION_STAMP))
$(shell echo '$(PG_VERSION_STAMP)' >.pg_version)
endif
