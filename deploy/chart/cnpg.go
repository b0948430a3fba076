package chart

import (
	"errors"
	"fmt"

	"sigs.k8s.io/yaml"
)

// The CloudNativePG fields the chart writes, as documented in its API reference
// (https://cloudnative-pg.io/documentation/current/cloudnative-pg.v1/). Decoding
// strictly into them rejects a misspelt or misplaced field.
type cnpgMeta struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels"`
}

// CNPGCluster is the part of postgresql.cnpg.io/v1 Cluster the chart renders.
type CNPGCluster struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   cnpgMeta `json:"metadata"`
	Spec       struct {
		Instances int `json:"instances"`
		Bootstrap struct {
			InitDB struct {
				Database string `json:"database"`
				Owner    string `json:"owner"`
			} `json:"initdb"`
		} `json:"bootstrap"`
		Storage struct {
			Size         string `json:"size"`
			StorageClass string `json:"storageClass,omitempty"`
		} `json:"storage"`
		Backup *struct {
			RetentionPolicy   string `json:"retentionPolicy"`
			BarmanObjectStore struct {
				DestinationPath string `json:"destinationPath"`
				EndpointURL     string `json:"endpointURL,omitempty"`
				S3Credentials   struct {
					AccessKeyID     secretKeySelector `json:"accessKeyId"`
					SecretAccessKey secretKeySelector `json:"secretAccessKey"`
				} `json:"s3Credentials"`
			} `json:"barmanObjectStore"`
		} `json:"backup,omitempty"`
	} `json:"spec"`
}

type secretKeySelector struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// CNPGScheduledBackup is postgresql.cnpg.io/v1 ScheduledBackup as the chart renders it.
type CNPGScheduledBackup struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   cnpgMeta `json:"metadata"`
	Spec       struct {
		Schedule             string `json:"schedule"`
		BackupOwnerReference string `json:"backupOwnerReference"`
		Cluster              struct {
			Name string `json:"name"`
		} `json:"cluster"`
	} `json:"spec"`
}

func checkCNPG(kind string, doc []byte) error {
	switch kind {
	case "Cluster":
		var c CNPGCluster
		if err := yaml.UnmarshalStrict(doc, &c); err != nil {
			return err
		}
		if c.Spec.Instances < 1 || c.Spec.Storage.Size == "" || c.Spec.Bootstrap.InitDB.Database == "" {
			return errors.New("cluster needs instances, storage.size and bootstrap.initdb.database")
		}
	case "ScheduledBackup":
		var b CNPGScheduledBackup
		if err := yaml.UnmarshalStrict(doc, &b); err != nil {
			return err
		}
		if b.Spec.Cluster.Name == "" || b.Spec.Schedule == "" {
			return errors.New("scheduled backup needs a cluster and a schedule")
		}
	default:
		return fmt.Errorf("unexpected CloudNativePG kind %s", kind)
	}
	return nil
}
