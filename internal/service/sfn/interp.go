package sfn

// parseMachine parses a definition. (The States Language interpreter binds here.)
func parseMachine(def []byte) (any, error) {
	if !jsonValid(def) {
		return nil, invalidDefinition("INVALID_JSON_DESCRIPTION: the definition is not valid JSON")
	}
	return nil, nil
}
