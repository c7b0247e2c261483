#pragma once

// Evaluation of STIX patterns against observations (STIX 2.1 sections 9.5-9.7).
//
//   ASSIGN_OR_RETURN(Pattern p, Parse(text));
//   ASSIGN_OR_RETURN(std::vector<Observation> obs, LoadObservations(json));
//   ASSIGN_OR_RETURN(MatchResult r, Match(p, obs));
//   if (r.matched) report(r.observation_indices);   // which observed-data satisfied it
//
// Semantics (where the spec is silent, documented choices are marked "choice"):
//  - Comparison expression `[E]` against ONE observation: E holds when there is an assignment of
//    one observed object per object type named in E under which E is true. So all comparisons of an
//    AND on the same type hold for the same object ([file:name = 'a' AND file:size = 3] needs one
//    file with both), and comparisons on different types ([ipv4-addr:value = … AND
//    domain-name:value = …]) need one object of each type in the same observation.
//  - Paths: a step that does not exist yields no value; [*] yields every element (none for an empty
//    or missing list); a `*_ref` key (or an element of a `*_refs` list) followed by more steps is
//    dereferenced to the referenced object of the same observation. A comparison over several
//    values (because of [*]) is true if it is true for ANY of them; `NOT op` negates the operator
//    on each value, so it is also existential and false when the path yields no value (choice, as
//    the reference matcher does: NOT never matches a missing property). `EXISTS p` is true when p
//    yields a value; `NOT EXISTS p` when it does not.
//  - Types: strings compare with strings (byte-wise, i.e. code point order), numbers with numbers
//    (int and float mix), booleans only with = and !=, timestamp constants with string properties
//    holding STIX timestamps (compared as instants, so '…:27Z' equals '…:27.000Z'), h''/b''
//    constants with string properties as bytes (a `*_hex` property is hex-decoded, `*_bin` base64-
//    decoded, another string is taken as its Latin-1 bytes, or hex-decoded for an h'' constant
//    when it is all hex digits, e.g. a hash). Any other pairing is false for the operator AND for
//    its NOT form (so `file:size != 'x'` is false: it can never be true of an integer). Choice: a
//    property named `value` holding an IP address equals the same address written as a full-length
//    block or in another IPv6 text form ('198.51.100.1' = '198.51.100.1/32', as the spec's
//    examples write them). LIKE and MATCHES apply to strings only (LIKE: % any run, _ exactly one
//    code point, case-sensitive, whole value; MATCHES: PCRE2, UTF mode, unanchored search, run
//    over the decoded bytes of `*_bin`/`*_hex` properties). ISSUBSET/ISSUPERSET: the property must
//    be an IPv4/IPv6 address or CIDR block of the same family as the constant. IN: equal to a
//    member; NOT IN: comparable with a member and equal to none (NOT IN () is true).
//  - Observation operators build "bindings" (sets of observation indices): `[E]` binds one
//    observation where E holds; `A AND B` a binding of A with a binding of B that share no
//    observation (occurrence: see number_observed below); `A OR B` a binding of either;
//    `A FOLLOWEDBY B` a binding of A and one of B sharing no occurrence, B not before A (below).
//  - Qualifiers (section 9.7) restrict the bindings of the expression they follow, reading each
//    observation as happening at some instant of [first_observed, last_observed] (as the OASIS
//    reference matcher does):
//      WITHIN n SECONDS: some window of n seconds touches every observation's interval of the
//        binding, i.e. max(first_observed) - min(last_observed) <= n;
//      REPEATS n TIMES: n bindings of the inner expression, pairwise sharing no occurrence,
//        united; an observation with number_observed = k counts as k occurrences, so one
//        observed-data with number_observed >= n satisfies REPEATS n TIMES on its own;
//      START t1 STOP t2: every observation of the binding reaches into [t1, t2):
//        first_observed < t2 and last_observed >= t1 (start inclusive, stop exclusive).
//    FOLLOWEDBY likewise: max(first_observed of the left binding) <= min(last_observed of the
//    right one).
//  - The pattern matches when its root has at least one binding; MatchResult reports the first
//    binding found (smallest indices first).
//
// Thread-safety: all functions are pure; Patterns and Observations may be shared between threads.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"
#include "pattern/ast.h"
#include "pattern/observation.h"

namespace liaison::pattern {

struct MatchOptions {
  // Upper bound on the work of the combinatorial search over bindings (AND, FOLLOWEDBY, REPEATS
  // across many observations). Exceeding it returns kResourceExhausted instead of running for ever.
  size_t max_steps = 10'000'000;
  // Bindings kept per sub-expression; more are dropped (keeping the earliest), which can only turn
  // a match into a no-match when more than this many distinct bindings exist (then
  // kResourceExhausted is returned rather than a wrong "no match").
  size_t max_bindings = 100'000;
};

struct MatchResult {
  bool matched = false;
  // The observations (indices into the span given to Match) of the first binding found, sorted.
  std::vector<size_t> observation_indices;
};

// Matches a whole pattern. Errors: kResourceExhausted when `options` bounds are exceeded (never a
// wrong answer). A pattern with semantic errors (see Check) still evaluates; its ill-typed
// comparisons are simply false.
Result<MatchResult> Match(const Pattern& pattern, std::span<const Observation> observations,
                          const MatchOptions& options = {});

// Same as Match for a sub-tree (e.g. one operand of a compound pattern, as the index confirms it).
Result<MatchResult> MatchObservationExpression(const ObservationExpression& expr,
                                               std::span<const Observation> observations,
                                               const MatchOptions& options = {});

// Every binding of `expr` over `observations` (each sorted), up to options.max_bindings;
// kResourceExhausted beyond. The index uses this for compound patterns when one of their
// comparisons fires.
Result<std::vector<std::vector<size_t>>> FindBindings(const ObservationExpression& expr,
                                                      std::span<const Observation> observations,
                                                      const MatchOptions& options = {});

// True when `expr` (the inside of one `[...]`) holds for `observation` (see the semantics above).
bool EvaluateComparisonExpression(const ComparisonExpression& expr, const Observation& observation);

// True when `comparison` holds with `root` (an object of `observation`, whose type must equal
// comparison.path.object_type, else false) as the object the path starts from.
bool EvaluateComparison(const Comparison& comparison, const Observation& observation,
                        const ObservedObject& root);

// Appends to `out` every value `path` reaches from `root` (its object_type is not checked here),
// following [*] and dereferencing _ref/_refs within `observation`. Pointers stay valid as long as
// `observation` lives.
void ResolvePath(const ObjectPath& path, const Observation& observation, const ObservedObject& root,
                 std::vector<const Value*>* out);

// True when one resolved property value satisfies the operator of `comparison` (NOT applied). For
// kExists: true (negated: false). Use with ResolvePath to confirm an index candidate.
bool CompareValue(const Comparison& comparison, const Value& value);

}  // namespace liaison::pattern
