/*
 * gbk_shift.c - placeholder; filled by the pass that needs it.
 */
#include "zf.h"
