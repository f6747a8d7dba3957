// Package resolve decides which versions of which packages to install:
// version constraints in Composer's syntax (ParseConstraint), and a solver
// (Solve) over what is known about a system (the host and its version,
// the platform, the installed packages, the candidate versions of every
// package, each with what it requires, conflicts with, breaks, replaces
// and provides) that returns a Plan of ordered steps, or a *Failure that
// explains itself as a chain of reasons, in the manner of Dart's pub:
//
//	Because a2.tools 2.0.0 requires a2.modules ^0.8.0 and every a2.modules ^0.8.0 requires a2 >= 0.6.0, a2.tools 2.0.0 requires a2 >= 0.6.0.
//	a2 is 0.5.7, so a2.tools 2.0.0 cannot be installed.
//	a2.tools 1.4.0 can: `modup install a2.tools@1.4.0`
//
// Assess answers `check`'s question for one package (is its newest
// release installable beside what is installed; if not, why, and which
// release is), Problems lists what is wrong with an installed set (for
// `doctor`), and RequiredBy what would break if a package went (for
// `remove` and `disable`).
//
// The package does no I/O: callers gather what the sources, repositories
// and package folders say into a System, and apply the Plan.
package resolve
