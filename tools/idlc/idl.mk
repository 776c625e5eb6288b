# The IDL stubs: tools/idlc compiles every interface (idl/*.idl, and the
# test interfaces tests/idl/*.idl) into C under $(IDL_OUT) (docs/IDL.md).
#
# Included by the top Makefile and by tests/host/host.mk. All interfaces
# are compiled in one run, so that their numbers and generated names are
# checked against each other; it runs again whenever an .idl file or the
# generator changes. Generated files are build output: never committed.

PYTHON    ?= /usr/bin/python3
IDLC      := tools/idlc/idlc.py
IDLC_SRCS := $(wildcard tools/idlc/*.py)
IDL_FILES := $(wildcard idl/*.idl tests/idl/*.idl)
IDL_OUT   := build/gen/idl
IDL_NAMES := $(basename $(notdir $(IDL_FILES)))
IDL_GEN_C := $(foreach n,$(IDL_NAMES),$(IDL_OUT)/$(n)_client.c $(IDL_OUT)/$(n)_server.c)
IDL_GEN_H := $(foreach n,$(IDL_NAMES),$(IDL_OUT)/$(n)_types.h $(IDL_OUT)/$(n)_client.h \
	$(IDL_OUT)/$(n)_server.h)

$(IDL_GEN_C) $(IDL_GEN_H) &: $(IDL_FILES) $(IDLC_SRCS)
	$(PYTHON) $(IDLC) -o $(IDL_OUT) $(IDL_FILES)
