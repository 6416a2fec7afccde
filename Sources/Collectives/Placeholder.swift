import CMPI
func _probe() { var r: Int32 = 0; MPI_Comm_rank(CMPI_COMM_WORLD(), &r); _ = CMPI_FLOAT() }
