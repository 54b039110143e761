package azure

import "strings"

// idKey is how resource ids are compared: without regard to case, as Azure
// compares them, and without surrounding slashes.
func idKey(id string) string {
	return "/" + strings.ToLower(strings.Trim(id, "/"))
}

// parentID returns the id of the resource of type segment (such as
// "privateDnsZones") that id lies in or is: the id up to that segment and
// the name after it, compared as idKey. ok is false when id holds no such
// pair.
func parentID(id, segment string) (key string, ok bool) {
	segs := strings.Split(strings.Trim(id, "/"), "/")
	for i := 0; i+1 < len(segs); i++ {
		if strings.EqualFold(segs[i], segment) && segs[i+1] != "" {
			return idKey(strings.Join(segs[:i+2], "/")), true
		}
	}
	return "", false
}

// childOf reports whether id names a resource of type child directly below
// a resource of type parent ("…/privateDnsZones/Z/virtualNetworkLinks/L").
func childOf(id, parent, child string) bool {
	segs := strings.Split(strings.Trim(id, "/"), "/")
	for i := 0; i+3 < len(segs); i++ {
		if strings.EqualFold(segs[i], parent) && segs[i+1] != "" && strings.EqualFold(segs[i+2], child) && segs[i+3] != "" {
			return true
		}
	}
	return false
}

// resourceGroup returns the resource group named in id, as written ("" when
// none).
func resourceGroup(id string) string {
	segs := strings.Split(strings.Trim(id, "/"), "/")
	for i := 0; i+1 < len(segs); i++ {
		if strings.EqualFold(segs[i], "resourceGroups") {
			return segs[i+1]
		}
	}
	return ""
}
