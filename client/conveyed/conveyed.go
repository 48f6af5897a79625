package conveyed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Module names and XML namespaces.
const (
	ModuleConveyedInfo    = "ietf-sztp-conveyed-info"
	ModuleBootstrapServer = "ietf-sztp-bootstrap-server"
	NamespaceConveyedInfo = "urn:ietf:params:xml:ns:yang:ietf-sztp-conveyed-info"
	NamespaceBootstrap    = "urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server"
)

// Encoding selects the YANG encoding of a document.
type Encoding int

const (
	// JSON is RFC 7951 JSON (application/yang-data+json).
	JSON Encoding = iota
	// XML is YANG XML (application/yang-data+xml).
	XML
)

// MediaType returns the RESTCONF media type of the encoding (digest 4.1).
func (e Encoding) MediaType() string {
	if e == XML {
		return "application/yang-data+xml"
	}
	return "application/yang-data+json"
}

func (e Encoding) String() string {
	if e == XML {
		return "xml"
	}
	return "json"
}

// ParseEncoding parses "json" or "xml".
func ParseEncoding(s string) (Encoding, error) {
	switch s {
	case "json", "":
		return JSON, nil
	case "xml":
		return XML, nil
	}
	return JSON, fmt.Errorf("unknown encoding %q (want json or xml)", s)
}

// Sniff guesses the encoding of a document from its first non-space byte:
// '{' is JSON, '<' is XML (digest 1.3, id-data content).
func Sniff(data []byte) (Encoding, error) {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	switch {
	case len(t) == 0:
		return JSON, errors.New("empty document")
	case t[0] == '{':
		return JSON, nil
	case t[0] == '<':
		return XML, nil
	}
	return JSON, fmt.Errorf("document starts with %q, neither JSON nor XML", t[0])
}

// ConveyedInformation is an instance of the conveyed-information yang-data:
// exactly one of Redirect and Onboarding is set.
type ConveyedInformation struct {
	Redirect   *RedirectInformation
	Onboarding *OnboardingInformation
}

// RedirectInformation lists bootstrap servers to try in order.
type RedirectInformation struct {
	BootstrapServers []BootstrapServer
}

// BootstrapServer is one entry of redirect information.
type BootstrapServer struct {
	Address string // inet:host, mandatory
	Port    uint16 // 0 means absent; the default is 443
	// TrustAnchor is a degenerate CMS SignedData holding the chain that
	// authenticates this server (nil when absent).
	TrustAnchor []byte
}

// EffectivePort returns Port, or 443 when absent (C50).
func (s BootstrapServer) EffectivePort() uint16 {
	if s.Port == 0 {
		return 443
	}
	return s.Port
}

// ConfigurationHandling is how configuration is committed.
type ConfigurationHandling string

const (
	Merge   ConfigurationHandling = "merge"
	Replace ConfigurationHandling = "replace"
)

// OnboardingInformation tells the device what to install.
type OnboardingInformation struct {
	BootImage               *BootImage
	ConfigurationHandling   ConfigurationHandling // "" when absent
	PreConfigurationScript  []byte
	Configuration           []byte
	PostConfigurationScript []byte
}

// BootImage names the image the device should run.
type BootImage struct {
	OSName            string
	OSVersion         string
	DownloadURIs      []string
	ImageVerification []ImageVerification
}

// HashSHA256 is the only hash-algorithm identity RFC 8572 defines,
// normalised without its module prefix.
const HashSHA256 = "sha-256"

// ImageVerification is one expected hash of the boot image.
type ImageVerification struct {
	HashAlgorithm string // normalised: "sha-256"
	HashValue     []byte
}

// Decode parses and validates a conveyed-information document.
func Decode(data []byte, enc Encoding) (*ConveyedInformation, error) {
	if enc == XML {
		return nil, errors.New("conveyed: XML decoding not implemented yet")
	}
	var doc struct {
		Redirect *struct {
			BootstrapServer []struct {
				Address     string `json:"address"`
				Port        uint16 `json:"port"`
				TrustAnchor []byte `json:"trust-anchor"`
			} `json:"bootstrap-server"`
		} `json:"ietf-sztp-conveyed-info:redirect-information"`
		Onboarding *struct {
			BootImage *struct {
				OSName            string   `json:"os-name"`
				OSVersion         string   `json:"os-version"`
				DownloadURI       []string `json:"download-uri"`
				ImageVerification []struct {
					HashAlgorithm string `json:"hash-algorithm"`
					HashValue     string `json:"hash-value"`
				} `json:"image-verification"`
			} `json:"boot-image"`
			ConfigurationHandling   string `json:"configuration-handling"`
			PreConfigurationScript  []byte `json:"pre-configuration-script"`
			Configuration           []byte `json:"configuration"`
			PostConfigurationScript []byte `json:"post-configuration-script"`
		} `json:"ietf-sztp-conveyed-info:onboarding-information"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("conveyed-information: %w", err)
	}
	ci := &ConveyedInformation{}
	if doc.Redirect != nil {
		ri := &RedirectInformation{}
		for _, s := range doc.Redirect.BootstrapServer {
			ri.BootstrapServers = append(ri.BootstrapServers, BootstrapServer{Address: s.Address, Port: s.Port, TrustAnchor: s.TrustAnchor})
		}
		ci.Redirect = ri
	}
	if o := doc.Onboarding; o != nil {
		oi := &OnboardingInformation{
			ConfigurationHandling:   ConfigurationHandling(o.ConfigurationHandling),
			PreConfigurationScript:  o.PreConfigurationScript,
			Configuration:           o.Configuration,
			PostConfigurationScript: o.PostConfigurationScript,
		}
		if b := o.BootImage; b != nil {
			bi := &BootImage{OSName: b.OSName, OSVersion: b.OSVersion, DownloadURIs: b.DownloadURI}
			for _, v := range b.ImageVerification {
				h, err := ParseHexString(v.HashValue)
				if err != nil {
					return nil, fmt.Errorf("hash-value: %w", err)
				}
				alg := v.HashAlgorithm
				if alg == ModuleConveyedInfo+":"+HashSHA256 {
					alg = HashSHA256
				}
				bi.ImageVerification = append(bi.ImageVerification, ImageVerification{HashAlgorithm: alg, HashValue: h})
			}
			oi.BootImage = bi
		}
		ci.Onboarding = oi
	}
	if err := ci.Validate(); err != nil {
		return nil, err
	}
	return ci, nil
}

// Validate checks the YANG constraints of the model.
func (ci *ConveyedInformation) Validate() error {
	switch {
	case ci.Redirect == nil && ci.Onboarding == nil:
		return errors.New("conveyed-information: missing mandatory choice information-type")
	case ci.Redirect != nil && ci.Onboarding != nil:
		return errors.New("conveyed-information: both redirect-information and onboarding-information")
	}
	return nil
}

// Encode serialises the document.
func (ci *ConveyedInformation) Encode(enc Encoding) ([]byte, error) {
	if err := ci.Validate(); err != nil {
		return nil, err
	}
	if enc == XML {
		return nil, errors.New("conveyed: XML encoding not implemented yet")
	}
	type bs struct {
		Address     string `json:"address"`
		Port        uint16 `json:"port,omitempty"`
		TrustAnchor []byte `json:"trust-anchor,omitempty"`
	}
	type iv struct {
		HashAlgorithm string `json:"hash-algorithm"`
		HashValue     string `json:"hash-value"`
	}
	type bi struct {
		OSName            string   `json:"os-name,omitempty"`
		OSVersion         string   `json:"os-version,omitempty"`
		DownloadURI       []string `json:"download-uri,omitempty"`
		ImageVerification []iv     `json:"image-verification,omitempty"`
	}
	type oi struct {
		BootImage               *bi    `json:"boot-image,omitempty"`
		ConfigurationHandling   string `json:"configuration-handling,omitempty"`
		PreConfigurationScript  []byte `json:"pre-configuration-script,omitempty"`
		Configuration           []byte `json:"configuration,omitempty"`
		PostConfigurationScript []byte `json:"post-configuration-script,omitempty"`
	}
	if ci.Redirect != nil {
		var servers []bs
		for _, s := range ci.Redirect.BootstrapServers {
			servers = append(servers, bs{s.Address, s.Port, s.TrustAnchor})
		}
		return json.Marshal(map[string]any{ModuleConveyedInfo + ":redirect-information": map[string]any{"bootstrap-server": servers}})
	}
	o := ci.Onboarding
	out := oi{ConfigurationHandling: string(o.ConfigurationHandling), PreConfigurationScript: o.PreConfigurationScript,
		Configuration: o.Configuration, PostConfigurationScript: o.PostConfigurationScript}
	if b := o.BootImage; b != nil {
		out.BootImage = &bi{OSName: b.OSName, OSVersion: b.OSVersion, DownloadURI: b.DownloadURIs}
		for _, v := range b.ImageVerification {
			out.BootImage.ImageVerification = append(out.BootImage.ImageVerification, iv{ModuleConveyedInfo + ":" + v.HashAlgorithm, FormatHexString(v.HashValue)})
		}
	}
	return json.Marshal(map[string]any{ModuleConveyedInfo + ":onboarding-information": out})
}
