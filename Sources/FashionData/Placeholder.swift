import CZlib
func _probe() { _ = gzopen("x", "rb") }
