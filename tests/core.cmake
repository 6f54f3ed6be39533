# Core unit tests: geometry, the network in double precision, optimizer.
h2nn_check_test(test_tree test_tree.c h2nn_base)
h2nn_check_test(test_model test_model.c h2nn_model_d)
h2nn_check_test(test_model_float test_model_float.c h2nn_model_f)
