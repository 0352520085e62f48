package lambda

import (
	"net/http"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/reserve"
)

// spaceKind sorts the operations that store or free function code: on a full disk, code is
// refused while functions can still be deleted. Other operations run as they are.
func spaceKind(op string) reserve.Kind {
	switch op {
	case "CreateFunction", "UpdateFunctionCode":
		return reserve.Adds
	case "DeleteFunction":
		return reserve.Frees
	}
	return reserve.Reads
}

// errCodeStorageFull is Lambda's error for code it has no room to store.
func errCodeStorageFull() error {
	return awsproto.Errorf("CodeStorageExceededException", http.StatusBadRequest,
		"Code storage limit exceeded: Kiri's data directory is out of disk space.")
}
