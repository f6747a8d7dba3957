package selfupdate

// ReplaceAside and RemoveAside expose the Windows replacement to tests on
// every system (renaming a file that is not running behaves the same).
var (
	ReplaceAside = replaceAside
	RemoveAside  = removeAside
)
