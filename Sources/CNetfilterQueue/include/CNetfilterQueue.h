// Placeholder: the libnetfilter_queue shim is being written.
#pragma once
int cnfq_placeholder(void);
