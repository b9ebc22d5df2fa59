// What a handler decided under a lock and does once every lock is released:
// answers to send and DHT calls to make (InMemoryDht calls back inline, and
// OpenDHT's callbacks take the node's locks). Declared before the MutexLock
// whose scope it outlives, an Outbox runs its actions in its destructor,
// after the lock's, so that every early return of the deciding code still
// acts outside the lock, and no function hands a held lock to another.
#ifndef CRSP_NODE_SRC_LIB_OUTBOX_H_
#define CRSP_NODE_SRC_LIB_OUTBOX_H_

#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

#include "crsp/node/node.h"

namespace crsp::node {

class Outbox {
 public:
  Outbox() = default;
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;
  ~Outbox() {
    for (std::function<void()>& action : actions_) action();
  }

  // Runs `action` once the locks are released, in the order added.
  void Then(std::function<void()> action) {
    actions_.push_back(std::move(action));
  }
  // Sends `bytes` through every reply of `to` (nothing when `bytes` is
  // empty: an answer that could not be encoded).
  void Reply(std::vector<ReplyFn> to, std::vector<std::byte> bytes) {
    if (bytes.empty()) return;
    Then([to = std::move(to), bytes = std::move(bytes)]() mutable {
      for (ReplyFn& reply : to) reply(bytes);
    });
  }

 private:
  std::vector<std::function<void()>> actions_;
};

}  // namespace crsp::node

#endif  // CRSP_NODE_SRC_LIB_OUTBOX_H_
