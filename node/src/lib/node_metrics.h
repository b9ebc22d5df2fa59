// Helpers of the node library around NodeMetrics (crsp/node/metrics.h).
#ifndef CRSP_NODE_LIB_NODE_METRICS_H_
#define CRSP_NODE_LIB_NODE_METRICS_H_

#include <memory>

#include "crsp/node/metrics.h"
#include "crsp/node/node.h"

namespace crsp::node {

// The shared no-op NodeMetrics: what a Node counts with when its context
// gives none.
const std::shared_ptr<NodeMetrics>& NoMetrics();

// `reply`, made to report each answer it sends to `metrics` as one for a
// request of `type` (status read from the answer's header). With
// NoMetrics(), `reply` itself: no metrics, no cost.
ReplyFn CountAnswers(const std::shared_ptr<NodeMetrics>& metrics,
                     RequestType type, ReplyFn reply);

}  // namespace crsp::node

#endif  // CRSP_NODE_LIB_NODE_METRICS_H_
