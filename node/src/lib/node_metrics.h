// Helpers of the node library around NodeMetrics (crsp/node/metrics.h).
#ifndef CRSP_NODE_LIB_NODE_METRICS_H_
#define CRSP_NODE_LIB_NODE_METRICS_H_

#include <memory>

#include "crsp/node/metrics.h"

namespace crsp::node {

// The shared no-op NodeMetrics: what a Node counts with when its context
// gives none.
const std::shared_ptr<NodeMetrics>& NoMetrics();

}  // namespace crsp::node

#endif  // CRSP_NODE_LIB_NODE_METRICS_H_
