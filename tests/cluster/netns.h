// Running code inside a named network namespace (/var/run/netns/NAME, as
// made by `ip netns add`) without moving the calling thread: the work runs on
// a helper thread that joins the namespace first. Sockets it creates and
// processes it forks stay in that namespace after the thread ends.
#ifndef CRSP_TESTS_CLUSTER_NETNS_H_
#define CRSP_TESTS_CLUSTER_NETNS_H_

#include <functional>
#include <string>

namespace crsp::testing {

// Runs `work` on a thread that first entered namespace `name`; an empty name
// runs it in the caller's namespace. Returns false (and skips `work`) when
// the namespace cannot be entered.
bool RunInNetns(const std::string& name, const std::function<void()>& work);

}  // namespace crsp::testing

#endif  // CRSP_TESTS_CLUSTER_NETNS_H_
