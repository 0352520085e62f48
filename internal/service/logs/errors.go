package logs

import "github.com/kiri-run/kiri/internal/awsproto"

func invalidParameter(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("InvalidParameterException", 400, format, args...)
}

func groupNotFound() *awsproto.Error {
	return awsproto.Errorf("ResourceNotFoundException", 400, "The specified log group does not exist.")
}

func streamNotFound() *awsproto.Error {
	return awsproto.Errorf("ResourceNotFoundException", 400, "The specified log stream does not exist.")
}

func groupExists() *awsproto.Error {
	return awsproto.Errorf("ResourceAlreadyExistsException", 400, "The specified log group already exists")
}

func streamExists() *awsproto.Error {
	return awsproto.Errorf("ResourceAlreadyExistsException", 400, "The specified log stream already exists")
}

func invalidToken() *awsproto.Error {
	return invalidParameter("The specified nextToken is invalid.")
}
