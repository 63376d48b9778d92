#include "CNetfilterQueue.h"
int cnfq_placeholder(void) { return 0; }
