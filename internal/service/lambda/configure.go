package lambda

import (
	"maps"
	"slices"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// configChange is the configuration a CreateFunction or UpdateFunctionConfiguration request
// sets; nil members leave the current value.
type configChange struct {
	Runtime, Handler, Role, Description *string
	MemorySize, Timeout                 *int32
	Environment                         *Environment
	EphemeralStorage                    *EphemeralStorage
	DeadLetterConfig                    *DeadLetterConfig
	TracingConfig                       *TracingConfig
	Layers                              []string
	KMSKeyArn                           *string
	VpcConfig                           *VpcConfig
	LoggingConfig                       *LoggingConfig
	Architectures                       []string
}

// applyConfig validates a change as AWS does and applies it to c.
func applyConfig(c *fnConfig, ch configChange) error {
	if ch.Role != nil {
		if err := checkRole(*ch.Role); err != nil {
			return err
		}
		c.Role = *ch.Role
	}
	if ch.Runtime != nil {
		if err := checkRuntime(*ch.Runtime); err != nil {
			return err
		}
		c.Runtime = *ch.Runtime
	}
	if ch.Handler != nil {
		if err := checkHandler(*ch.Handler); err != nil {
			return err
		}
		c.Handler = *ch.Handler
	}
	if ch.MemorySize != nil {
		if err := checkMemory(*ch.MemorySize); err != nil {
			return err
		}
		c.MemoryMB = *ch.MemorySize
	}
	if ch.Timeout != nil {
		if err := checkTimeout(*ch.Timeout); err != nil {
			return err
		}
		c.Timeout = *ch.Timeout
	}
	if ch.Environment != nil {
		if err := checkEnv(ch.Environment.Variables); err != nil {
			return err
		}
		c.Env = maps.Clone(ch.Environment.Variables)
	}
	if ch.EphemeralStorage != nil && ch.EphemeralStorage.Size != nil {
		c.EphemeralMB = *ch.EphemeralStorage.Size
	}
	if ch.DeadLetterConfig != nil {
		target := awsproto.Value(ch.DeadLetterConfig.TargetArn)
		if err := checkDeadLetter(target); err != nil {
			return err
		}
		c.DeadLetterTarget = target
	}
	if ch.TracingConfig != nil {
		c.TracingMode = awsproto.Value(ch.TracingConfig.Mode)
	}
	if len(ch.Layers) > 0 {
		// Kiri has no layers yet (PublishLayerVersion is not served), so none exists.
		return invalidParameter("Layer version %s does not exist.", ch.Layers[0])
	}
	if ch.Layers != nil {
		c.Layers = nil
	}
	if ch.KMSKeyArn != nil {
		c.KMSKeyArn = *ch.KMSKeyArn
	}
	if ch.VpcConfig != nil {
		c.Subnets, c.SecurityGroups = slices.Clone(ch.VpcConfig.SubnetIds), slices.Clone(ch.VpcConfig.SecurityGroupIds)
	}
	if l := ch.LoggingConfig; l != nil {
		if l.LogFormat != nil {
			c.LogFormat = *l.LogFormat
		}
		if l.LogGroup != nil {
			c.LogGroup = *l.LogGroup
		}
		if l.ApplicationLogLevel != nil {
			c.AppLogLevel = *l.ApplicationLogLevel
		}
		if l.SystemLogLevel != nil {
			c.SystemLogLevel = *l.SystemLogLevel
		}
	}
	if ch.Architectures != nil {
		if err := checkArchitectures(ch.Architectures); err != nil {
			return err
		}
		c.Architectures = slices.Clone(ch.Architectures)
	}
	return nil
}
