package azure

// estate is every object read, once each: the same object (same id) listed
// in two files is kept once.
type estate struct {
	vnets    []*vnet
	zones    []*zone
	sets     []*recordSet
	links    []*zoneLink
	rulesets []*ruleset
	rules    []*rule
	rsLinks  []*rulesetLink
	seen     map[string]seen // idKey → the first listing
}

type seen struct {
	at      loc
	content string
}

// add keeps an object the first time its id is seen, through keep. A second
// listing of it merges when what privdns reads of it is the same, and is a
// problem naming both otherwise: which one is current is unknowable.
func (e *estate) add(im *importer, obj object, content string, keep func()) {
	k := obj.key()
	if first, ok := e.seen[k]; ok {
		if first.content != content {
			im.c.errorf(obj.at, "%s differs from the same object (same id) at %s", obj.id, first.at)
		}
		return
	}
	e.seen[k] = seen{at: obj.at, content: content}
	keep()
}
